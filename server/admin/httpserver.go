package admin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"zkit/server/config"
	"zkit/server/member"
)

// The AdminServer: Apache's JettyAdminServer on net/http.
//
//	GET <commandURL>         the links to every command (primary names,
//	                         sorted), as Apache prints them
//	GET <commandURL>/<name>  the command's JSON (see commands_json.go);
//	                         query parameters are its arguments
//	                         (set_trace_mask?traceMask=N)
//
// Answers are 200 with Content-Type application/json, also for an unknown
// command or a server that does not serve (the "error" key says why), as
// in Apache. Other paths are 404, other methods 405. The AdminServer
// ignores 4lw.commands.whitelist, as Apache's does.
//
// # Deviations from Apache's answers
//
//   - The command set is 3.8's (26 commands); 3.9's snapshot and restore
//     (which need authentication) are absent, as are HTTPS and auth.
//   - What zkit does not measure has Apache's "nothing yet" value:
//     client_response_stats and client_response sizes -1,
//     fsync_threshold_exceed_count, auth_failed_count and the non-mTLS
//     counts 0 (srvr, stats).
//   - Lists that are Java hash sets are sorted (connections by age, paths
//     and session ids in order); server_stats' keys are in one fixed order
//     (Apache's varies between runs).
//   - dump: expiry times are on Apache's elapsed-time clock but zkit's
//     buckets are not tick-aligned as Apache's ExpiryQueue's are.
//   - last_snapshot reads zkit's snapshot files (<dataDir>/zkit); on an
//     in-memory file system the timestamp is -1; without a snapshot the
//     zxid is ffffffffffffffff, as Apache's -1.
//   - environment and system_properties describe the Go runtime in
//     Java's terms (see envi.go); system_properties has the zookeeper.*
//     properties Apache sets from zoo.cfg, not a JVM's.
//   - observers: the count of synced observers is real, the per-observer
//     list is empty. voting_view: a member configured in code (not from a
//     zoo.cfg) knows only its own client address ("" for the others).
//   - monitor: with the default provider, mntr's 3.9 keys (see mntr.go);
//     with the Prometheus provider, the samples of zkit's endpoint (go_*
//     in place of jvm_*). Without a server it answers "not serving"
//     rather than failing.
//   - hash: no digests (zkit keeps no digest log).
//   - Other paths: net/http's 404 text rather than Jetty's HTML page;
//     methods other than GET/HEAD are 405.
//
// zoo.cfg keys honoured: admin.enableServer, admin.serverAddress,
// admin.serverPort, admin.commandURL, admin.idleTimeout (as zoo.cfg keys or
// zookeeper.* properties). HTTPS (admin.forceHttps, admin.portUnification)
// is not supported.

// AdminOptions configures an AdminServer.
type AdminOptions struct {
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string
	// CommandURL is where the commands live (admin.commandURL); default
	// "/commands".
	CommandURL string
	// Config is the server's zoo.cfg (directories, system properties,
	// initial_configuration); may be nil.
	Config *config.Config
	// Server returns the server to report on, nil while none runs (the
	// commands then answer that the instance is not serving).
	Server func() *member.Server
	// IdleTimeout closes idle keep-alive connections (admin.idleTimeout);
	// default 30 s.
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// AdminServer serves the AdminServer's HTTP commands.
type AdminServer struct {
	opts          AdminOptions
	initialConfig *string

	mu   sync.Mutex
	ln   net.Listener
	http *http.Server
	done chan struct{}
}

// AdminEnabled reports whether cfg asks for the AdminServer
// (admin.enableServer: anything but "false"; Apache's default is on).
func AdminEnabled(cfg *config.Config) bool { return cfg != nil && cfg.AdminEnableServer }

// AdminAddr is where cfg's AdminServer listens: admin.serverAddress
// (default 0.0.0.0) and admin.serverPort (default 8080).
func AdminAddr(cfg *config.Config) string {
	return net.JoinHostPort(cfg.AdminServerAddress, strconv.Itoa(cfg.AdminServerPort))
}

// AdminOptionsFor returns the options cfg gives an AdminServer for s.
func AdminOptionsFor(cfg *config.Config, s *member.Server, log *slog.Logger) AdminOptions {
	o := AdminOptions{
		Addr: AdminAddr(cfg), CommandURL: cfg.AdminCommandURL, Config: cfg,
		Server: func() *member.Server { return s }, Logger: log,
	}
	if v, ok := cfg.Raw["admin.idleTimeout"]; ok {
		if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms > 0 {
			o.IdleTimeout = time.Duration(ms) * time.Millisecond
		}
	}
	return o
}

// NewAdminServer returns an AdminServer; Start makes it listen.
func NewAdminServer(o AdminOptions) *AdminServer {
	if o.CommandURL == "" {
		o.CommandURL = config.DefaultAdminCommandURL
	}
	o.CommandURL = "/" + strings.Trim(o.CommandURL, "/")
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Server == nil {
		o.Server = func() *member.Server { return nil }
	}
	a := &AdminServer{opts: o}
	// Apache keeps the text of the file it parsed (ServerConfig).
	if o.Config != nil && o.Config.File != "" {
		if b, err := os.ReadFile(o.Config.File); err == nil {
			text := string(b)
			a.initialConfig = &text
		}
	}
	return a
}

// Handler returns the HTTP handler (for tests and embedding).
func (a *AdminServer) Handler() http.Handler { return http.HandlerFunc(a.serveHTTP) }

// Start listens on the configured address and serves in the background.
func (a *AdminServer) Start() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln != nil {
		return errors.New("admin: AdminServer already started")
	}
	ln, err := net.Listen("tcp", a.opts.Addr)
	if err != nil {
		return err
	}
	a.ln = ln
	a.http = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       a.opts.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.opts.Logger.Handler(), slog.LevelWarn),
	}
	a.done = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(a.http, a.done)
	a.opts.Logger.Info("AdminServer started", "addr", ln.Addr().String(), "commandURL", a.opts.CommandURL)
	return nil
}

// Addr is the bound address (nil before Start).
func (a *AdminServer) Addr() net.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return nil
	}
	return a.ln.Addr()
}

// URL is the base URL of the commands, e.g. http://127.0.0.1:8080/commands
// (a wildcard address is given as 127.0.0.1).
func (a *AdminServer) URL() string {
	addr := a.Addr()
	if addr == nil {
		return ""
	}
	return "http://" + dialable(addr) + a.opts.CommandURL
}

// dialable turns a wildcard listen address into a loopback one.
func dialable(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	if ta.IP == nil || ta.IP.IsUnspecified() {
		if ta.IP != nil && ta.IP.To4() == nil {
			return net.JoinHostPort("::1", strconv.Itoa(ta.Port))
		}
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	return ta.String()
}

// Close stops serving and waits for the listener to close.
func (a *AdminServer) Close() error {
	a.mu.Lock()
	srv, done := a.http, a.done
	a.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = srv.Close()
	}
	<-done
	return err
}

func (a *AdminServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	base := a.opts.CommandURL
	path := r.URL.Path
	if path != base && !strings.HasPrefix(path, base+"/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "HTTP method "+r.Method+" is not supported by this URL", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(path, base), "/")
	if name == "" {
		// Apache prints the links without a Content-Type; keep net/http
		// from sniffing one.
		w.Header()["Content-Type"] = nil
		var b strings.Builder
		for _, n := range CommandNames() {
			b.WriteString(`<a href="` + base + "/" + n + `">` + n + "</a>\n<br/>\n")
		}
		_, _ = w.Write([]byte(b.String()))
		return
	}
	kwargs := map[string]string{}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			kwargs[k] = vs[0]
		}
	}
	c := &cmdContext{cfg: a.opts.Config, s: a.opts.Server(), kwargs: kwargs, initialConfig: a.initialConfig}
	body := marshalJSON(runCommand(name, c))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
