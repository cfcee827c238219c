package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStartMembersClose(t *testing.T) {
	h, err := start([]byte(`{"size": 3, "observers": 1, "log_level": "info"}`))
	require.NoError(t, err)
	defer closeEnsemble(h)
	require.NoError(t, waitReady(h, 10_000))
	cs, err := connectString(h)
	require.NoError(t, err)
	require.Len(t, strings.Split(cs, ","), 4)

	b, err := members(h)
	require.NoError(t, err)
	var ms []memberJSON
	require.NoError(t, json.Unmarshal(b, &ms))
	require.Len(t, ms, 4)
	leaders := 0
	for _, m := range ms {
		if m.State == "leading" {
			leaders++
		}
	}
	require.Equal(t, 1, leaders)
	require.True(t, ms[3].Observer)
	require.Equal(t, "observing", ms[3].State)

	require.NoError(t, memberOp(h, 2, "kill"))
	b, _ = members(h)
	require.Contains(t, string(b), `"state":"stopped"`)
	require.NoError(t, memberOp(h, 2, "start"))
	require.NoError(t, waitReady(h, 10_000))
	require.NoError(t, closeEnsemble(h))
	_, err = connectString(h)
	require.ErrorContains(t, err, "no ensemble with handle")
	require.Error(t, closeEnsemble(h))
}

func TestBadInput(t *testing.T) {
	_, err := start([]byte(`{"sise": 3}`))
	require.ErrorContains(t, err, `unknown field "sise"`)
	_, err = start([]byte(`{"size": -1}`))
	require.Error(t, err)
	_, err = start([]byte(`{"log_level": "loud"}`))
	require.ErrorContains(t, err, "log_level")
	h, err := start(nil) // every default
	require.NoError(t, err)
	defer closeEnsemble(h)
	require.ErrorContains(t, memberOp(h, 0, "stop"), "ids start at 1")
	require.ErrorContains(t, memberOp(h, 9, "stop"), "ids are 1..3")
	require.ErrorContains(t, partition(h, 4), "no member 4")
	require.ErrorContains(t, memberOp(h, 1, "explode"), "unknown member operation")
	require.NoError(t, waitReady(h, 10_000))
	require.ErrorContains(t, expireSession(h, 12345), "no live session")
}

func TestInternalErrorMessage(t *testing.T) {
	require.EqualError(t, internalError("boom\n"), "zkit: internal error: boom")
}

func TestLogRingDropsOldestAndWakesWaiter(t *testing.T) {
	r := newLogRing(4)
	for i := 0; i < 6; i++ {
		r.put(logRecord{Msg: fmt.Sprint(i)})
	}
	recs, dropped := r.take(0, 10)
	require.Equal(t, uint64(2), dropped)
	require.Len(t, recs, 4)
	require.Equal(t, "2", recs[0].Msg)
	require.Equal(t, "5", recs[3].Msg)

	recs, dropped = r.take(10*time.Millisecond, 10)
	require.Empty(t, recs)
	require.Zero(t, dropped)

	go func() {
		time.Sleep(20 * time.Millisecond)
		r.put(logRecord{Msg: "late"})
	}()
	began := time.Now()
	recs, _ = r.take(5*time.Second, 10)
	require.Len(t, recs, 1)
	require.Less(t, time.Since(began), 2*time.Second)

	for i := 0; i < 3; i++ {
		r.put(logRecord{Msg: fmt.Sprint(i)})
	}
	recs, _ = r.take(0, 2)
	require.Len(t, recs, 2)
	recs, _ = r.take(0, 2)
	require.Len(t, recs, 1)
}

func TestRingHandler(t *testing.T) {
	r := newLogRing(16)
	log := slog.New(&ringHandler{ring: r, level: slog.LevelInfo, ensemble: 7})
	log.Debug("hidden")
	m := log.With("member", uint64(2)).WithGroup("g")
	m.Info("hello", "n", 3, "err", fmt.Errorf("bad"), slog.Group("sub", "x", 1.5))
	recs, _ := r.take(0, 10)
	require.Len(t, recs, 1)
	rec := recs[0]
	require.Equal(t, "hello", rec.Msg)
	require.Equal(t, int64(7), rec.Ensemble)
	require.Equal(t, uint64(2), rec.Member)
	require.Equal(t, map[string]any{"g.n": int64(3), "g.err": "bad", "g.sub.x": 1.5}, rec.Attrs)
	_, err := json.Marshal(rec)
	require.NoError(t, err)
}
