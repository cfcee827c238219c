package config

import (
	"strconv"
	"strings"
)

// Error is a configuration error. It names the file and, when the error is
// about one line or one key, that line and key:
//
//	zoo.cfg:7: tickTime: "abc" is not an integer
//	zoo.cfg: dataDir is not set
type Error struct {
	File string // the config file, as named to Load or Parse (or the dynamic or myid file)
	Line int    // 1-based; 0 when the error is not about one line
	Key  string // "" when the error is not about one key
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
