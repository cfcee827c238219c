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

func isFourLetter(cmd string) bool { return knownWords[cmd] }

func formatHex(id int64) string { return strconv.FormatUint(uint64(id), 16) }
