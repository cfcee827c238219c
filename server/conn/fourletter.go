package conn

import "strconv"

// knownWords are the four-letter words a new connection may send instead
// of a ConnectRequest (FourLetterCommands).
var knownWords = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true,
	"envi": true, "gtmk": true, "hash": true, "isro": true, "mntr": true,
	"ruok": true, "srst": true, "srvr": true, "stat": true, "stmk": true,
	"wchc": true, "wchp": true, "wchs": true,
}

// telnetClose is what telnet sends on Ctrl-C (IAC IP IAC DO); ZooKeeper
// treats it as the command "telnet close".
var telnetClose = [4]byte{0xff, 0xf4, 0xff, 0xfd}

// fourLetterWord recognizes the first four bytes of a connection as a
// four-letter word.
func fourLetterWord(b [4]byte) (string, bool) {
	if b == telnetClose {
		return "telnet close", true
	}
	return string(b[:]), knownWords[string(b[:])]
}

func formatHex(id int64) string { return strconv.FormatUint(uint64(id), 16) }
