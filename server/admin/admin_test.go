package admin

import (
	"math"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"zkit/server/version"
)

const (
	reVersion = `3\.9\.3-zkit-0\.1\.0-\S+, built on .+`
	reAddr    = `/127\.0\.0\.1:\d+`
	reDouble  = `-?\d+\.\d+(E-?\d+)?`
	reDate    = `(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d \d\d:\d\d:\d\d \S+ \d{4}`
)

func TestFreshServer(t *testing.T) {
	s, cfg := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=*\n")
	addr := s.Addr().String()
	port := strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	dir := filepath.Join(cfg.DataDir, "zkit")

	require.Equal(t, "imok", word(t, addr, "ruok"))
	matchLines(t, "srvr", lines(t, word(t, addr, "srvr")),
		"Zookeeper version: "+reVersion,
		`Latency min/avg/max: 0/0\.0/0`,
		`Received: 2`, // ruok and this srvr
		`Sent: 1`,     // ruok's answer
		`Connections: 1`,
		`Outstanding: 0`,
		`Zxid: 0x0`,
		`Mode: standalone`,
		`Node count: 5`)
	matchLines(t, "stat", lines(t, word(t, addr, "stat")),
		"Zookeeper version: "+reVersion,
		`Clients:`,
		` `+reAddr+`\[0\]\(queued=0,recved=1,sent=0\)`,
		``,
		`Latency min/avg/max: 0/0\.0/0`,
		`Received: 3`,
		`Sent: 2`,
		`Connections: 1`,
		`Outstanding: 0`,
		`Zxid: 0x0`,
		`Mode: standalone`,
		`Node count: 5`)
	// The storage directory holds what the storage wrote at its start
	// (its first snapshot may still be on its way: conf is compared with
	// the size measured on both sides of it, once they agree).
	var size, conf string
	for i := 0; i < 50; i++ {
		before := osDirSize(dir)
		conf = word(t, addr, "conf")
		if osDirSize(dir) == before {
			size = strconv.FormatInt(before, 10)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotEqual(t, "0", size)
	require.Equal(t, "clientPort="+port+"\nsecureClientPort=-1\n"+
		"dataDir="+dir+"\ndataDirSize="+size+"\ndataLogDir="+dir+"\ndataLogSize="+size+"\n"+
		"tickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n"+
		"clientPortListenBacklog=-1\nserverId=0\n", conf)
	matchLines(t, "cons", lines(t, word(t, addr, "cons")),
		` `+reAddr+`\[0\]\(queued=0,recved=1,sent=0\)`, ``)
	matchLines(t, "dump", lines(t, word(t, addr, "dump")),
		`SessionTracker dump:`,
		`Session Sets \(0\)/\(0\):`,
		`ephemeral nodes dump:`,
		`Sessions with Ephemerals \(0\):`,
		`Connections dump:`,
		`Connections Sets \(1\)/\(1\):`,
		`1 expire at `+reDate+`:`,
		"\tip: "+reAddr+` sessionId: 0x0`)
	require.Equal(t, "0 connections watching 0 paths\nTotal watches:0\n", word(t, addr, "wchs"))
	require.Equal(t, "\n", word(t, addr, "wchc"))
	require.Equal(t, "\n", word(t, addr, "wchp"))
	require.Equal(t, "datadir_size: "+size+"\nlogdir_size: "+size+"\n", word(t, addr, "dirs"))
	require.Equal(t, "rw", word(t, addr, "isro"))
	require.Equal(t, "306", word(t, addr, "gtmk"))
	require.Equal(t, "", word(t, addr, "hash"))
	// stmk without its 8 bytes: the connection closes without an answer.
	require.Equal(t, "", word(t, addr, "stmk"))
	checkEnvi(t, word(t, addr, "envi"))

	mntr := word(t, addr, "mntr")
	got := map[string]string{}
	for _, l := range lines(t, mntr) {
		k, v, ok := strings.Cut(l, "\t")
		require.True(t, ok, l)
		got[k] = v
	}
	require.Equal(t, "1", got["zk_num_alive_connections"])
	require.Equal(t, "5", got["zk_znode_count"])
	require.Equal(t, "44", got["zk_approximate_data_size"]) // as Apache's fresh tree
	stillServes(t, addr)
}

func checkEnvi(t *testing.T, out string) {
	t.Helper()
	matchLines(t, "envi", lines(t, out),
		`Environment:`,
		`zookeeper\.version=`+regexp.QuoteMeta(version.FullWithBuild()),
		`host\.name=\S+`,
		`java\.version=go\S+`,
		`java\.vendor=The Go Authors`,
		`java\.home=<NA>`,
		`java\.class\.path=\S+`,
		`java\.library\.path=.+`,
		`java\.io\.tmpdir=\S+`,
		`java\.compiler=<NA>`,
		`os\.name=\S.*`,
		`os\.arch=\S+`,
		`os\.version=\S+`,
		`user\.name=\S+`,
		`user\.home=\S+`,
		`user\.dir=\S+`,
		`os\.memory\.free=\d+MB`,
		`os\.memory\.max=\d+MB`,
		`os\.memory\.total=\d+MB`)
}

func TestScenario(t *testing.T) {
	s, _ := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=*\n")
	addr := s.Addr().String()
	sc := runScenario(t, addr)
	a, b, c := hex(sc.a.SessionID()), hex(sc.b.SessionID()), hex(sc.c.SessionID())
	require.Regexp(t, `^0x1[0-9a-f]{14}$`, a, "standalone session ids carry server id 1")

	matchLines(t, "srvr", lines(t, word(t, addr, "srvr")),
		"Zookeeper version: "+reVersion,
		`Latency min/avg/max: \d+/`+reDouble+`/\d+`,
		`Received: \d+`,
		`Sent: \d+`,
		`Connections: 4`,
		`Outstanding: 0`,
		`Zxid: 0xc`, // 3 createSession + 9 writes, as in Apache's capture
		`Mode: standalone`,
		`Node count: 13`)

	session := ` ` + reAddr + `\[1\]\(queued=0,recved=\d+,sent=\d+\)`
	self := ` ` + reAddr + `\[0\]\(queued=0,recved=1,sent=0\)`
	stat := lines(t, word(t, addr, "stat"))
	matchLines(t, "stat", stat,
		"Zookeeper version: "+reVersion, `Clients:`,
		session, session, session, self, ``,
		`Latency min/avg/max: \d+/`+reDouble+`/\d+`,
		`Received: \d+`, `Sent: \d+`, `Connections: 4`, `Outstanding: 0`,
		`Zxid: 0xc`, `Mode: standalone`, `Node count: 13`)

	full := func(sid string, to int) string {
		return ` ` + reAddr + `\[1\]\(queued=0,recved=\d+,sent=\d+,sid=` + sid +
			`,lop=[A-Z]+,est=\d{13},to=` + strconv.Itoa(to) +
			`,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)`
	}
	cons := word(t, addr, "cons")
	matchLines(t, "cons", lines(t, cons),
		full(a, 10000), full(b, 20000), full(c, 30000), self, ``)
	require.Contains(t, cons, ",lop=EXIS,")  // A's last op
	require.Contains(t, cons, ",lcxid=0xa,") // A's 10th request
	// lresp is on the monotonic clock, as Apache's: not a wall-clock time.
	lresp := regexp.MustCompile(`lresp=(\d+)`).FindStringSubmatch(cons)
	n, _ := strconv.ParseInt(lresp[1], 10, 64)
	require.Less(t, n, time.Now().UnixMilli()/2)

	dump := word(t, addr, "dump")
	dl := lines(t, dump)
	require.Greater(t, len(dl), 16)
	matchLines(t, "dump", dl[:16],
		`SessionTracker dump:`,
		`Session Sets \(3\)/\(3\):`,
		`1 expire at `+reDate+`:`, "\t"+a,
		`1 expire at `+reDate+`:`, "\t"+b,
		`1 expire at `+reDate+`:`, "\t"+c,
		`ephemeral nodes dump:`,
		`Sessions with Ephemerals \(2\):`,
		a+`:`, "\t/app/eph-a",
		b+`:`, "\t/app/eph-b1", "\t/app/eph-b2",
		`Connections dump:`)
	cbuckets := regexp.MustCompile(`^Connections Sets \((\d)\)/\(4\):$`).FindStringSubmatch(dl[16])
	require.NotNil(t, cbuckets, dl[16])
	require.Len(t, dl, 17+4+int(cbuckets[1][0]-'0'))
	for _, l := range dl[17:] {
		require.Regexp(t, `^(\d expire at `+reDate+`:|\tip: `+reAddr+` sessionId: 0x[0-9a-f]+)$`, l)
	}
	for _, sid := range []string{a, b, c, "0x0"} {
		require.Contains(t, dump, " sessionId: "+sid+"\n")
	}

	// Only data watches, as Apache reports them.
	require.Equal(t, "2 connections watching 3 paths\nTotal watches:4\n", word(t, addr, "wchs"))
	require.Equal(t, a+"\n\t/app/config\n\t/app/missing\n"+b+"\n\t/app\n\t/app/config\n\n", word(t, addr, "wchc"))
	require.Equal(t, "/app\n\t"+b+"\n/app/config\n\t"+a+"\n\t"+b+"\n/app/missing\n\t"+a+"\n\n", word(t, addr, "wchp"))

	mntr := lines(t, word(t, addr, "mntr"))
	keys := expectedMntrKeys()
	require.Len(t, mntr, len(keys))
	values := map[string]string{}
	for i, l := range mntr {
		k, v, ok := strings.Cut(l, "\t")
		require.True(t, ok, l)
		require.Equal(t, "zk_"+keys[i], k)
		values[keys[i]] = v
		switch {
		case k == "zk_version":
			require.Equal(t, version.FullWithBuild(), v)
		case k == "zk_server_state":
			require.Equal(t, "standalone", v)
		case k == "zk_avg_latency" || k == "zk_connection_drop_probability" || strings.HasPrefix(k, "zk_avg_"):
			require.Regexp(t, "^"+reDouble+"$", v, k)
		default:
			require.Regexp(t, `^-?\d+$`, v, k)
		}
	}
	for k, v := range map[string]string{
		"ephemerals_count": "3", "num_alive_connections": "4", "znode_count": "13",
		"global_sessions": "3", "watch_count": "7", "approximate_data_size": "167",
		"outstanding_requests": "0", "local_sessions": "0",
		"last_client_response_size": "-1",
	} {
		require.Equal(t, v, values[k], k)
	}
	fds, _ := strconv.Atoi(values["open_file_descriptor_count"])
	require.Greater(t, fds, 4)

	// crst resets every connection; cons shows the reset values.
	require.Equal(t, "Connection stats reset.\n", word(t, addr, "crst"))
	reset := func(sid string) string {
		return ` ` + reAddr + `\[1\]\(queued=0,recved=[01],sent=[01],sid=` + sid +
			`,lop=(NA|PING),est=\d{13},to=\d+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)`
	}
	afterReset := word(t, addr, "cons")
	matchLines(t, "cons after crst", lines(t, afterReset), reset(a), reset(b), reset(c), self, ``)
	require.Contains(t, afterReset, "lzxid=0xffffffffffffffff,lresp=0,")

	// srst resets the server counters: srvr counts only itself and srst's answer.
	require.Equal(t, "Server stats reset.\n", word(t, addr, "srst"))
	matchLines(t, "srvr after srst", lines(t, word(t, addr, "srvr")),
		"Zookeeper version: "+reVersion,
		`Latency min/avg/max: \d+/`+reDouble+`/\d+`,
		`Received: [1-3]`, `Sent: [1-3]`, `Connections: 4`, `Outstanding: 0`,
		`Zxid: 0xc`, `Mode: standalone`, `Node count: 13`)

	stillServes(t, addr)
}

// expectedMntrKeys is Apache 3.9.5's standalone mntr key list.
func expectedMntrKeys() []string {
	keys := []string{"version", "server_state"}
	keys = append(keys, standaloneGauges...)
	keys = append(keys, counters...)
	for _, n := range basicSummaries {
		for _, p := range []string{"avg_", "min_", "max_", "cnt_", "sum_"} {
			keys = append(keys, p+n)
		}
	}
	for _, n := range advancedSummaries {
		for _, p := range []string{"avg_", "min_", "max_", "cnt_", "sum_", "p50_", "p95_", "p99_", "p999_"} {
			keys = append(keys, p+n)
		}
	}
	return keys
}

func TestWhitelist(t *testing.T) {
	s, _ := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=ruok, stat\n")
	addr := s.Addr().String()
	require.Equal(t, "imok", word(t, addr, "ruok"))
	require.True(t, strings.HasPrefix(word(t, addr, "stat"), "Zookeeper version: "))
	require.True(t, strings.HasPrefix(word(t, addr, "srvr"), "Zookeeper version: "), "srvr is always enabled")
	for _, w := range []string{"mntr", "conf", "isro", "wchs", "cons", "envi", "crst", "srst", "dump", "stmk", "gtmk", "hash", "dirs", "wchc", "wchp"} {
		require.Equal(t, w+" is not executed because it is not in the whitelist.\n", word(t, addr, w))
	}
	// Refused words count as received and their answer as sent.
	before := s.Clients.Stats.PacketsReceived.Load()
	word(t, addr, "mntr")
	require.Equal(t, before+1, s.Clients.Stats.PacketsReceived.Load())
	// Unknown words are not four-letter words: nothing is written.
	require.Equal(t, "", word(t, addr, "abcd"))
	stillServes(t, addr)

	// Without a whitelist only srvr answers.
	d, _ := startZkit(t, "tickTime=2000\n")
	require.Equal(t, "ruok is not executed because it is not in the whitelist.\n", word(t, d.Addr().String(), "ruok"))
	require.True(t, strings.HasPrefix(word(t, d.Addr().String(), "srvr"), "Zookeeper version: "))
}

func TestTraceMask(t *testing.T) {
	s, cfg := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=*\n")
	h := FourLetterWords(cfg)
	t.Cleanup(func() { traceMask.Store(defaultTraceMask) })
	require.Equal(t, "1234", string(h(s, "stmk\x00\x00\x00\x00\x00\x00\x04\xd2")))
	require.Equal(t, "1234", word(t, s.Addr().String(), "gtmk"))
	require.Equal(t, "-1", string(h(s, "stmk\xff\xff\xff\xff\xff\xff\xff\xff")))
	require.Equal(t, "306", string(h(s, "stmk\x00\x00\x00\x00\x00\x00\x01\x32")))
	require.Equal(t, "306", word(t, s.Addr().String(), "gtmk"))
}

func TestSentCountsPieces(t *testing.T) {
	s, _ := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=*\n")
	addr := s.Addr().String()
	sent := s.Clients.Stats.PacketsSent.Load()
	out := word(t, addr, "mntr") // more than 8192 bytes: two pieces
	require.Greater(t, len(out), sendChunk)
	require.Equal(t, sent+int64((len(out)+sendChunk-1)/sendChunk), s.Clients.Stats.PacketsSent.Load())
	sent = s.Clients.Stats.PacketsSent.Load()
	word(t, addr, "hash") // nothing written, nothing counted
	require.Equal(t, sent, s.Clients.Stats.PacketsSent.Load())
}

func TestJavaFormats(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", 2: "2.0", 1.2105: "1.2105", 0.5: "0.5", 371: "371.0",
		0.0005: "5.0E-4", 1e7: "1.0E7", 1.5e7: "1.5E7", 0.001: "0.001", 1234567.5: "1234567.5",
		-2.5: "-2.5", math.Inf(1): "Infinity", 0.0001: "1.0E-4", 0.0003: "3.0E-4",
	} {
		require.Equal(t, want, javaDouble(f), "%v", f)
	}
	for _, c := range []struct {
		total, count int64
		want         float64
	}{
		{0, 0, 0}, {23, 19, 1.2105}, {23, 12, 1.9167}, {10, 8, 1.25}, {1, 8, 0.125},
		{2, 3, 0.6667}, {1, 3, 0.3333}, {1, 20000, 0.0001}, {1, 20001, 0}, {3, 20000, 0.0001}, {5, 20000, 0.0003}, // as Java's BigDecimal
	} {
		require.Equal(t, c.want, avg4(c.total, c.count), "%d/%d", c.total, c.count)
	}
	require.Equal(t, "0x0", hex(0))
	require.Equal(t, "0xffffffffffffffff", hex(-1))
	require.Equal(t, "0x100000d23710000", hex(0x100000d23710000))
	require.Equal(t, "/127.0.0.1:58972", javaAddr("127.0.0.1:58972"))
	require.Equal(t, "/0:0:0:0:0:0:0:1:2181", javaAddr("[::1]:2181"))
	require.Equal(t, "/10.0.0.1:5", javaAddr("[::ffff:10.0.0.1]:5"))
	require.Equal(t, "/fe80:0:0:0:0:0:0:1%eth0:7", javaAddr("[fe80::1%eth0]:7"))

	loc := time.Local
	t.Cleanup(func() { time.Local = loc })
	time.Local = time.UTC
	require.Equal(t, "Wed Nov 25 00:09:38 UTC 2026", javaDate(time.Date(2026, 11, 25, 0, 9, 38, 500e6, time.UTC).UnixMilli()))
	time.Local = time.FixedZone("", 3*3600+1800)
	require.Equal(t, "Sun Jan 04 03:30:00 GMT+03:30 1970", javaDate(3*86400*1000))
}

// The telnet close sequence reaches the handler as "telnet close" once
// server/conn passes it: refused unless "*" is whitelisted, else no answer.
func TestTelnetClose(t *testing.T) {
	s, cfg := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=ruok, stat\n")
	require.Equal(t, "telnet close is not executed because it is not in the whitelist.\n", string(FourLetterWords(cfg)(s, "telnet close")))
	s2, cfg2 := startZkit(t, "tickTime=2000\n4lw.commands.whitelist=*\n")
	require.Nil(t, FourLetterWords(cfg2)(s2, "telnet close"))
}
