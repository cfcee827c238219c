package main

// The library's behaviour, in plain Go: exports.go only converts between C
// and Go values and recovers panics. Tests call these functions directly.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"zkit/server/ensemble"
	"zkit/server/version"
)

// abiVersion is the revision of zkit.h.
const abiVersion = 1

// startConfig is zkit_start's JSON config (see zkit.h).
type startConfig struct {
	Size                     int    `json:"size"`
	Observers                int    `json:"observers"`
	TickTimeMS               int64  `json:"tick_time_ms"`
	InitLimit                int    `json:"init_limit"`
	SyncLimit                int    `json:"sync_limit"`
	DataDir                  string `json:"data_dir"`
	Host                     string `json:"host"`
	ExtendedTypes            bool   `json:"extended_types"`
	ContainerCheckIntervalMS int64  `json:"container_check_interval_ms"`
	NoSync                   bool   `json:"no_sync"`
	ReadOnly                 bool   `json:"read_only"`
	SuperDigest              string `json:"super_digest"`
	LogLevel                 string `json:"log_level"`
}

// memberJSON is one element of zkit_members's array.
type memberJSON struct {
	ID       uint64 `json:"id"`
	Observer bool   `json:"observer"`
	Running  bool   `json:"running"`
	State    string `json:"state"`
	Serving  bool   `json:"serving"`
	Leader   uint64 `json:"leader"`
	Epoch    uint32 `json:"epoch"`
	Zxid     int64  `json:"zxid"`
	Client   string `json:"client"`
	Quorum   string `json:"quorum"`
	Election string `json:"election"`
}

var registry = struct {
	sync.Mutex
	next int64
	m    map[int64]*ensemble.Ensemble
}{m: map[int64]*ensemble.Ensemble{}}

func versionString() string {
	return fmt.Sprintf("zkit %s (ZooKeeper %s compatible) abi %d", version.Zkit, version.ZooKeeper, abiVersion)
}

func parseLevel(s string) (slog.Level, error) {
	if s == "" {
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("zkit: log_level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func parseConfig(raw []byte) (ensemble.Config, slog.Level, error) {
	var sc startConfig
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			return ensemble.Config{}, 0, fmt.Errorf("zkit: bad config: %w", err)
		}
	}
	if sc.Size < 0 || sc.Observers < 0 || sc.TickTimeMS < 0 || sc.InitLimit < 0 || sc.SyncLimit < 0 || sc.ContainerCheckIntervalMS < 0 {
		return ensemble.Config{}, 0, fmt.Errorf("zkit: bad config: negative size, observers, tick time, limit or interval")
	}
	level, err := parseLevel(sc.LogLevel)
	if err != nil {
		return ensemble.Config{}, 0, err
	}
	return ensemble.Config{
		Size:                   sc.Size,
		Observers:              sc.Observers,
		TickTime:               time.Duration(sc.TickTimeMS) * time.Millisecond,
		InitLimit:              sc.InitLimit,
		SyncLimit:              sc.SyncLimit,
		DataDir:                sc.DataDir,
		Host:                   sc.Host,
		ExtendedTypes:          sc.ExtendedTypes,
		ContainerCheckInterval: time.Duration(sc.ContainerCheckIntervalMS) * time.Millisecond,
		NoSync:                 sc.NoSync,
		ReadOnly:               sc.ReadOnly,
		SuperDigest:            sc.SuperDigest,
	}, level, nil
}

func start(raw []byte) (int64, error) {
	cfg, level, err := parseConfig(raw)
	if err != nil {
		return 0, err
	}
	registry.Lock()
	registry.next++
	h := registry.next
	registry.Unlock()
	cfg.Logger = slog.New(&ringHandler{ring: logs, level: level, ensemble: h})
	e, err := ensemble.Start(cfg)
	if err != nil {
		return 0, fmt.Errorf("zkit: starting the ensemble: %w", err)
	}
	registry.Lock()
	registry.m[h] = e
	registry.Unlock()
	return h, nil
}

func lookup(h int64) (*ensemble.Ensemble, error) {
	registry.Lock()
	defer registry.Unlock()
	e := registry.m[h]
	if e == nil {
		return nil, fmt.Errorf("zkit: no ensemble with handle %d (closed?)", h)
	}
	return e, nil
}

func member(h, id int64) (*ensemble.Member, error) {
	e, err := lookup(h)
	if err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, fmt.Errorf("zkit: no member %d (ids start at 1)", id)
	}
	m := e.Member(uint64(id))
	if m == nil {
		return nil, fmt.Errorf("zkit: no member %d (ids are 1..%d)", id, len(e.Members()))
	}
	return m, nil
}

func closeEnsemble(h int64) error {
	registry.Lock()
	e := registry.m[h]
	delete(registry.m, h)
	registry.Unlock()
	if e == nil {
		return fmt.Errorf("zkit: no ensemble with handle %d (closed already?)", h)
	}
	e.Close()
	return nil
}

func waitReady(h, timeoutMS int64) error {
	e, err := lookup(h)
	if err != nil {
		return err
	}
	if err := e.WaitReady(time.Duration(timeoutMS) * time.Millisecond); err != nil {
		return fmt.Errorf("zkit: %w", err)
	}
	return nil
}

func connectString(h int64) (string, error) {
	e, err := lookup(h)
	if err != nil {
		return "", err
	}
	return e.ConnectString(), nil
}

func members(h int64) ([]byte, error) {
	e, err := lookup(h)
	if err != nil {
		return nil, err
	}
	out := []memberJSON{}
	for _, m := range e.Members() {
		st := m.Status()
		a := m.Addrs()
		out = append(out, memberJSON{
			ID: m.ID, Observer: m.Observer, Running: st.Running, State: st.State(), Serving: st.Serving,
			Leader: st.Leader, Epoch: st.Epoch, Zxid: st.Zxid,
			Client: m.ClientAddr(), Quorum: a.Quorum, Election: a.Election,
		})
	}
	return json.Marshal(out)
}

// memberOp runs op ("stop", "start", "kill", "restart") on member id.
func memberOp(h, id int64, op string) error {
	m, err := member(h, id)
	if err != nil {
		return err
	}
	switch op {
	case "stop":
		m.Stop()
	case "kill":
		m.Kill()
	case "start":
		err = m.Start()
	case "restart":
		err = m.Restart()
	default:
		return fmt.Errorf("zkit: unknown member operation %q", op)
	}
	if err != nil {
		return fmt.Errorf("zkit: %s member %d: %w", op, id, err)
	}
	return nil
}

func partition(h, id int64) error {
	if _, err := member(h, id); err != nil {
		return err
	}
	e, _ := lookup(h)
	if err := e.Partition(uint64(id)); err != nil {
		return fmt.Errorf("zkit: %w", err)
	}
	return nil
}

func heal(h int64) error {
	e, err := lookup(h)
	if err != nil {
		return err
	}
	e.Heal()
	return nil
}

func expireSession(h, session int64) error {
	e, err := lookup(h)
	if err != nil {
		return err
	}
	if err := e.ExpireSession(session); err != nil {
		return fmt.Errorf("zkit: expiring session 0x%x: %w", uint64(session), err)
	}
	return nil
}

// nextLogs is zkit_next_log's result.
func nextLogs(timeoutMS int64, max int) ([]byte, error) {
	if max <= 0 {
		max = 256
	}
	recs, dropped := logs.take(time.Duration(timeoutMS)*time.Millisecond, max)
	if len(recs) == 0 && dropped == 0 {
		return nil, nil
	}
	if recs == nil {
		recs = []logRecord{}
	}
	return json.Marshal(struct {
		Dropped uint64      `json:"dropped"`
		Records []logRecord `json:"records"`
	}{dropped, recs})
}

// internalError describes a recovered panic.
func internalError(p any) error {
	return fmt.Errorf("zkit: internal error: %s", strings.TrimSpace(fmt.Sprint(p)))
}
