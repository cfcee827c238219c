package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Load reads the zoo.cfg at path, then its dynamic config file and
// dataDir/myid as Apache does. Relative paths inside the file (dataDir,
// dynamicConfigFile) are relative to the working directory, as in Apache.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot read: " + unwrapPathError(err)}
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse is Load for a config read from r; name is used in messages (and as
// Config.File). The dynamic config file and myid are still read from disk.
// The error, if any, is an *Error or several joined with errors.Join.
func Parse(r io.Reader, name string) (*Config, error) {
	props, err := ReadProperties(r, name)
	if err != nil {
		return nil, err
	}
	l := &loader{cfg: newConfig(name), name: name, sys: map[string]entry{}}
	if err := l.run(props); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

// entry is a property as QuorumPeerConfig sees it: key and value trimmed.
type entry struct {
	key, value string
	raw        string // the value before trimming
	line       int
}

// loader holds the state of one Parse.
type loader struct {
	cfg      *Config
	name     string
	entries  []entry          // the static file, one per key, last value wins
	sys      map[string]entry // system-property settings by zoo.cfg name
	sysOrder []string
	errs     []error
	myidPath string
}

// run follows QuorumPeerConfig.parse: every key, then the checks of
// parseProperties, then the membership (setupQuorumPeerConfig).
func (l *loader) run(props []Property) error {
	l.entries = l.dedupe(l.name, props)
	l.applyStatic()
	l.applySys()
	if len(l.errs) > 0 {
		return errors.Join(l.errs...)
	}
	steps := []func() error{
		l.checkSASL, l.finishDirs, l.finishPorts, l.finishTimes,
		l.loadQuorum, l.readMyID, l.setupClientPort, l.setupPeerType,
		l.checkValidity, l.checkClientPort,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// dedupe trims keys and values and keeps the last value of a repeated key
// (java.util.Properties.put), at the place of the first.
func (l *loader) dedupe(file string, props []Property) []entry {
	var out []entry
	index := map[string]int{}
	for _, p := range props {
		e := entry{key: javaTrim(p.Key), value: javaTrim(p.Value), raw: p.Value, line: p.Line}
		if i, dup := index[e.key]; dup {
			l.warnf(file, e.line, "%s is set again (first on line %d); the last value wins, as in Apache", e.key, out[i].line)
			out[i] = e
			continue
		}
		index[e.key] = len(out)
		out = append(out, e)
	}
	return out
}

func (l *loader) applyStatic() {
	_, dynamic := l.find("dynamicConfigFile")
	for _, e := range l.entries {
		switch name, isMetrics := strings.CutPrefix(e.key, "metricsProvider."); {
		case staticKeys[e.key] != nil:
			l.record(e.key, e)
			l.check(e, staticKeys[e.key](l, e))
		case isMetrics && name != "":
			l.record(e.key, e)
			l.check(e, setMetricsProvider(l, e, name))
		case isQuorumKey(e.key):
			l.record(e.key, e)
			if dynamic && e.key != "version" {
				l.check(e, errors.New("must be in the dynamic config file, as dynamicConfigFile is set"))
			}
		default:
			l.addSys(e)
		}
	}
}

// addSys files a key Apache would turn into a system property, resolving
// the X / zookeeper.X spellings; unknown keys only get a warning.
func (l *loader) addSys(e entry) {
	name, ok := sysName(e.key)
	if !ok {
		l.record(e.key, e)
		l.warnf(l.name, e.line, "unknown key %q; ignored", e.key)
		return
	}
	prev, dup := l.sys[name]
	if !dup {
		l.sys[name], l.sysOrder = e, append(l.sysOrder, name)
		return
	}
	if prev.key == name {
		e, prev = prev, e
	}
	l.warnf(l.name, prev.line, "%s is also set as %s on line %d; using %s", prev.key, e.key, e.line, e.key)
	l.sys[name] = e
}

func (l *loader) applySys() {
	for _, name := range l.sysOrder {
		e := l.sys[name]
		l.record(name, e)
		if set := sysKeys[name]; set != nil {
			set(l, e)
		}
	}
	l.collectAuth()
}

// record keeps a key's value in Raw and its place for Where.
func (l *loader) record(key string, e entry) {
	l.cfg.Raw[key] = e.value
	l.cfg.where[key] = fmt.Sprintf("%s:%d", l.name, e.line)
}

func (l *loader) find(key string) (entry, bool) {
	for _, e := range l.entries {
		if e.key == key {
			return e, true
		}
	}
	return entry{}, false
}

// check records a value error of entry e.
func (l *loader) check(e entry, err error) {
	if err != nil {
		l.errs = append(l.errs, &Error{File: l.name, Line: e.line, Key: e.key, Msg: err.Error()})
	}
}

// errAt builds an error about a key of the static file, at its line if set.
func (l *loader) errAt(key, format string, args ...any) error {
	e, _ := l.find(key)
	return &Error{File: l.name, Line: e.line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// warnf adds a warning about a line of file (line 0: the whole file).
func (l *loader) warnf(file string, line int, format string, args ...any) {
	where := file
	if line > 0 {
		where = fmt.Sprintf("%s:%d", file, line)
	}
	l.cfg.Warnings = append(l.cfg.Warnings, where+": "+fmt.Sprintf(format, args...))
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
