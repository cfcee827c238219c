// Package admin answers ZooKeeper's four-letter words (ruok, srvr, stat,
// mntr, cons, dump, ...) for a zkit server, byte for byte in the format of
// Apache ZooKeeper. zkit reports itself as ZooKeeper 3.9, so where 3.9 and
// 3.8 differ (mntr's key set and order, conf's dataLogDir and directory
// sizes) the output follows 3.9.5.
//
// Apache builds each answer with Java's PrintWriter: lines end in a single
// LF, numbers are Java longs or doubles (see javafmt.go), ids are
// Long.toHexString. The connection layer (server/conn) recognises a word in
// the first four bytes of a new connection, calls the handler returned by
// FourLetterWords, writes what it returns and closes the connection. The
// handler also does the counting Apache's connection does for a word: one
// packet received (before the whitelist check), one packet sent per 8 KiB
// piece of the answer.
//
// The data comes from the running member.Server (and, on an ensemble
// member, from its protocol: member.Server.QuorumMetrics); what zkit does
// not measure is reported as Apache reports "no samples yet" (0, 0.0, or
// -1 for the client response sizes), never made up. The role-dependent
// parts (leader, follower, observer, read-only) hang off status.Mode;
// quorum.go has what ensemble members add.
//
// # Deviations from Apache
//
//   - The connection list (stat, cons, dump) is sorted by age, not in Java
//     hash order; wchc, wchp and dump list sessions and paths sorted.
//   - A connection without a session that is still in its handshake is shown
//     as Apache shows the connection asking a four-letter word ("[0]",
//     recved=1): in zkit that is what such a connection is, apart from the
//     instant between accept and its first four bytes.
//   - cons: minlat is the true minimum; Apache prints 0 until the first crst.
//   - dump: emptied session buckets are not listed ("0 expire at ...").
//     Connections are grouped as Apache's NIO factory would group them:
//     10 s buckets, from the session's expiry or, without a session, 10 s
//     after the connection opened, on the wall clock (Apache's boundaries
//     are on its monotonic clock). zkit does not itself time out idle
//     connections without a session.
//   - mntr: the ServerMetrics counters and summaries zkit does not measure
//     are 0; the quota gauge sets and the per-namespace summary sets are
//     absent (zkit takes no such samples).
//   - conf, dirs: the directories are zkit's storage directories,
//     <dataDir>/zkit and <dataLogDir>/zkit (storage.Dir), not version-2,
//     and the sizes are theirs. An ensemble member configured in code
//     (server/ensemble, zkit member) lists its membership as classic
//     "server.N=host:quorumPort:electionPort:role" lines, version=0.
//   - mntr on ensemble members: the gauge order is that of a member's first
//     role since its start (see mntr.go); uptime is the member's, not its
//     current role's. Proposal sizes (also srvr's last line on a leader)
//     are zkit's encoded transactions, which carry no digest: 12 bytes
//     fewer than Apache's for the same transaction. proposal_count counts
//     the current leadership's proposals. leader_uptime has the resolution
//     of the protocol clock (10 ms).
//   - mntr: fsynctime comes from the storage's fsync counters; its minimum
//     (and maximum after srst) from their power-of-two histogram (see
//     storage.go).
//   - envi: the java.* keys describe the Go runtime (see envi.go).
//   - hash: zkit keeps no digest log, so the answer is empty (as Apache's
//     before its 128th transaction).
//   - stmk needs the 8 bytes that follow the word; the handler takes them
//     appended to cmd. While server/conn does not pass them, stmk closes
//     the connection without an answer, as Apache does when they are
//     missing. Likewise the telnet close sequence is answered (refused) only
//     once server/conn passes it as "telnet close".
package admin

import (
	"strings"

	"zkit/server/config"
	"zkit/server/member"
)

// notServing is Apache's answer to most words while the server does not
// serve clients (AbstractFourLetterCommand.ZK_NOT_SERVING).
const notServing = "This ZooKeeper instance is not currently serving requests"

// telnetClose is the name Apache gives the bytes ff f4 ff fd, which the
// telnet program sends when it closes: a known word without a handler, so
// only its refusal is ever answered.
const telnetClose = "telnet close"

// sendChunk is the size of the pieces Apache's PrintWriter hands to the
// socket; each piece counts as one packet sent.
const sendChunk = 8192

// FourLetterWords returns the handler for member.Options.FourLetterWords:
// it answers the four-letter word cmd for server s with Apache's reply
// bytes, or Apache's refusal when cfg's 4lw.commands.whitelist does not
// enable it. A nil cfg enables only srvr, Apache's default. cmd may carry
// the 8-byte argument of stmk after the word.
func FourLetterWords(cfg *config.Config) func(s *member.Server, cmd string) []byte {
	enabled := func(word string) bool {
		if cfg == nil {
			return word == "srvr"
		}
		return cfg.FourLetterWordEnabled(word)
	}
	return func(s *member.Server, cmd string) []byte {
		word, arg := cmd, ""
		if len(cmd) > 4 && cmd != telnetClose {
			word, arg = cmd[:4], cmd[4:]
		}
		// Apache counts the four bytes as a packet received before it
		// looks at the whitelist (NIOServerCnxn.checkFourLetterWord).
		s.Clients.Stats.PacketsReceived.Add(1)
		var out []byte
		if !enabled(word) {
			out = []byte(word + " is not executed because it is not in the whitelist.\n")
		} else {
			out = run(cfg, s, word, arg)
		}
		// Every piece written counts as a packet sent, after it is
		// written: a word's own answer is not in its own Sent count.
		s.Clients.Stats.PacketsSent.Add(int64((len(out) + sendChunk - 1) / sendChunk))
		return out
	}
}

// run answers an enabled word.
func run(cfg *config.Config, s *member.Server, word, arg string) []byte {
	st := statusOf(s)
	var b strings.Builder
	switch word {
	case telnetClose:
		// Enabled but without a handler: Apache reads the four bytes as a
		// (negative) length and closes without a word.
		return nil
	case "ruok":
		b.WriteString("imok")
	case "envi":
		writeEnvi(&b)
	case "gtmk":
		b.WriteString(formatLong(traceMask.Load()))
	case "stmk":
		if len(arg) < 8 {
			return nil
		}
		mask := int64(0)
		for i := 0; i < 8; i++ {
			mask = mask<<8 | int64(arg[i])
		}
		traceMask.Store(mask)
		b.WriteString(formatLong(mask))
	case "isro":
		switch {
		case !st.Serving:
			b.WriteString("null")
		case st.Mode == ModeReadOnly:
			b.WriteString("ro")
		default:
			b.WriteString("rw")
		}
	case "hash":
		if !st.Serving {
			b.WriteString(notServing)
		}
		// zkit keeps no digest log: nothing to list.
	default:
		if !st.Serving {
			b.WriteString(notServing + "\n")
			break
		}
		switch word {
		case "srvr":
			writeStat(&b, s, st, false)
		case "stat":
			writeStat(&b, s, st, true)
		case "cons":
			writeCons(&b, s)
		case "crst":
			for _, c := range s.Clients.Conns() {
				c.ResetStats()
			}
			b.WriteString("Connection stats reset.\n")
		case "srst":
			resetServerStats(s)
			b.WriteString("Server stats reset.\n")
		case "conf":
			writeConf(&b, cfg, s, st)
		case "dirs":
			d := dirsOf(cfg, s)
			b.WriteString("datadir_size: " + formatLong(d.size(d.snap)) + "\n")
			b.WriteString("logdir_size: " + formatLong(d.size(d.log)) + "\n")
		case "dump":
			writeDump(&b, s, st)
		case "mntr":
			writeMntr(&b, s, st)
		case "wchs":
			writeWatchSummary(&b, s)
		case "wchc":
			writeWatchesBySession(&b, s)
		case "wchp":
			writeWatchesByPath(&b, s)
		default:
			return nil
		}
	}
	return []byte(b.String())
}
