package bench

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	flag "github.com/spf13/pflag"
)

// ProfileFlags are the profiling flags of `zkit serve`:
//
//	--cpuprofile F   CPU profile from start to stop, written to F at stop
//	--memprofile F   heap profile (in-use and allocated since start) at stop
//	--pprof-addr A   serve /debug/pprof/{profile,heap,allocs,goroutine,...} on A
//
// The HTTP endpoint is built on runtime/pprof with its own mux, so nothing
// is registered on http.DefaultServeMux (net/http/pprof would do that as a
// side effect of being imported, exposing it on any other server that uses
// the default mux). `go tool pprof http://A/debug/pprof/profile?seconds=10`
// works against it.
type ProfileFlags struct {
	CPUProfile, MemProfile, PprofAddr string
}

// Register adds the flags to fs.
func (p *ProfileFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&p.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file at exit")
	fs.StringVar(&p.MemProfile, "memprofile", "", "write a heap profile (in use, and allocated since start) to this file at exit")
	fs.StringVar(&p.PprofAddr, "pprof-addr", "", "serve pprof profiles over HTTP on this host:port (port 0 picks one; the address is logged)")
}

// Start begins what the flags ask for and returns the function that ends it
// (writing the profiles); call it once, before the process exits.
func (p *ProfileFlags) Start(log *slog.Logger) (stop func(), err error) {
	var cpuFile *os.File
	var srv *http.Server
	if p.CPUProfile != "" {
		cpuFile, err = os.Create(p.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if p.PprofAddr != "" {
		ln, err := net.Listen("tcp", p.PprofAddr)
		if err != nil {
			if cpuFile != nil {
				pprof.StopCPUProfile()
				cpuFile.Close()
			}
			return nil, fmt.Errorf("--pprof-addr: %w", err)
		}
		srv = &http.Server{Handler: PprofHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		log.Info("serving pprof", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	}
	return func() {
		if srv != nil {
			_ = srv.Close()
		}
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				log.Error("writing CPU profile", "file", p.CPUProfile, "err", err)
			}
		}
		if p.MemProfile != "" {
			if err := writeHeapProfile(p.MemProfile); err != nil {
				log.Error("writing heap profile", "file", p.MemProfile, "err", err)
			}
		}
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // up-to-date in-use figures
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PprofHandler serves the runtime's profiles the way net/http/pprof does:
// /debug/pprof/profile?seconds=N (CPU; no execution trace is offered),
// /debug/pprof/<name>?debug=N for every runtime/pprof profile (heap,
// allocs, goroutine, mutex, block, threadcreate), and an index.
func PprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		secs, _ := strconv.Atoi(r.FormValue("seconds"))
		if secs <= 0 {
			secs = 30
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, "could not start CPU profile: "+err.Error(), http.StatusInternalServerError)
			return
		}
		select {
		case <-time.After(time.Duration(secs) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
	})
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/")
		if name == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "profiles: profile?seconds=N (CPU)")
			for _, p := range pprof.Profiles() {
				fmt.Fprintf(w, "  %s (%d)\n", p.Name(), p.Count())
			}
			return
		}
		prof := pprof.Lookup(name)
		if prof == nil {
			http.Error(w, "unknown profile "+strconv.Quote(name), http.StatusNotFound)
			return
		}
		debug, _ := strconv.Atoi(r.FormValue("debug"))
		if name == "heap" && r.FormValue("gc") != "" {
			runtime.GC()
		}
		if debug > 0 {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		if err := prof.WriteTo(w, debug); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}
