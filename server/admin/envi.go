package admin

import (
	"context"
	"net"
	"os"
	"os/user"
	"runtime"
	"strings"
	"time"

	"zkit/server/version"
)

// na is what Apache prints for a value it cannot get.
const na = "<NA>"

// writeEnvi is envi (Environment.list). The keys are Apache's, in its
// order, since tools parse them; zkit runs no JVM, so the java.* keys
// describe what stands in its place:
//
//	java.version       the Go runtime's version (runtime.Version, e.g. go1.26.8)
//	java.vendor        "The Go Authors"
//	java.home          <NA>: a Go binary carries its runtime inside
//	java.class.path    the zkit executable
//	java.library.path  $LD_LIBRARY_PATH, or <NA>
//	java.io.tmpdir     os.TempDir
//	java.compiler      <NA> (as on every JDK since 9)
//	os.memory.*        the Go heap: free = idle heap still held, max = the
//	                   Go memory limit (GOMEMLIMIT; unlimited prints
//	                   Long.MAX_VALUE/1 MiB as Java's unlimited maxMemory
//	                   does), total = heap memory held from the OS
func writeEnvi(b *strings.Builder) {
	kv := func(k, v string) { b.WriteString(k + "=" + v + "\n") }
	b.WriteString("Environment:\n")
	kv("zookeeper.version", version.FullWithBuild())
	kv("host.name", canonicalHostName())
	kv("java.version", runtime.Version())
	kv("java.vendor", "The Go Authors")
	kv("java.home", na)
	exe, err := os.Executable()
	if err != nil {
		exe = na
	}
	kv("java.class.path", exe)
	kv("java.library.path", orNA(os.Getenv("LD_LIBRARY_PATH")))
	kv("java.io.tmpdir", os.TempDir())
	kv("java.compiler", na)
	kv("os.name", osName())
	kv("os.arch", osArch())
	kv("os.version", orNA(osVersion()))
	name, home := na, na
	if u, err := user.Current(); err == nil {
		name, home = orNA(u.Username), orNA(u.HomeDir)
	}
	kv("user.name", name)
	kv("user.home", home)
	wd, err := os.Getwd()
	if err != nil {
		wd = na
	}
	kv("user.dir", wd)
	free, max, total := memory()
	const mb = 1 << 20
	kv("os.memory.free", formatLong(free/mb)+"MB")
	kv("os.memory.max", formatLong(max/mb)+"MB")
	kv("os.memory.total", formatLong(total/mb)+"MB")
}

func orNA(s string) string {
	if s == "" {
		return na
	}
	return s
}

// canonicalHostName is InetAddress.getLocalHost().getCanonicalHostName():
// the host name resolved to an address, and that address back to a name
// (the address itself when it has none); <NA> when the name does not
// resolve.
func canonicalHostName() string {
	host, err := os.Hostname()
	if err != nil {
		return na
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return na
	}
	names, err := net.DefaultResolver.LookupAddr(ctx, addrs[0])
	if err != nil || len(names) == 0 {
		return addrs[0]
	}
	return strings.TrimSuffix(names[0], ".")
}

// osName is Java's os.name for the platforms Go names differently.
func osName() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "Mac OS X"
	case "windows":
		return "Windows"
	case "freebsd":
		return "FreeBSD"
	case "openbsd":
		return "OpenBSD"
	case "netbsd":
		return "NetBSD"
	case "solaris":
		return "SunOS"
	case "aix":
		return "AIX"
	}
	return runtime.GOOS
}

// osArch is Java's os.arch (amd64, aarch64, ...).
func osArch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64"
	case "386":
		return "i386"
	case "ppc64le":
		return "ppc64le"
	}
	return runtime.GOARCH
}
