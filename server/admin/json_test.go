package admin

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestJacksonLayout checks the printer against Apache's bytes: an answer of
// the 3.8 AdminServer (connections, one element shortened), nested objects
// in arrays, empty containers, escapes and Java number forms.
func TestJacksonLayout(t *testing.T) {
	v := jsonObj{
		{"connections", []any{
			jsonObj{{"remote_socket_address", "127.0.0.1:53706"}, {"interest_ops", 1}, {"session_id", int64(72057984839385088)}},
			jsonObj{{"remote_socket_address", "127.0.0.1:53716"}},
		}},
		{"secure_connections", []any{}},
		{"command", "connections"},
		{"error", nil},
	}
	want := `{
  "connections" : [ {
    "remote_socket_address" : "127.0.0.1:53706",
    "interest_ops" : 1,
    "session_id" : 72057984839385088
  }, {
    "remote_socket_address" : "127.0.0.1:53716"
  } ],
  "secure_connections" : [ ],
  "command" : "connections",
  "error" : null
}`
	require.Equal(t, want, string(marshalJSON(v)))

	v = jsonObj{
		{"m", jsonObj{{"5974000", []int64{1, 2}}, {"e", jsonObj{}}}},
		{"d", jsonDouble(2.3158)}, {"z", jsonDouble(0)}, {"big", jsonDouble(1.79557046912e9)},
		{"nan", jsonDouble(math.NaN())}, {"raw", jsonNum("0.0")},
		{"s", "a\"b\\c\n\t\x01/é"}, {"b", true},
	}
	want = `{
  "m" : {
    "5974000" : [ 1, 2 ],
    "e" : { }
  },
  "d" : 2.3158,
  "z" : 0.0,
  "big" : 1.79557046912E9,
  "nan" : "NaN",
  "raw" : 0.0,
  "s" : "a\"b\\c\n\t\u0001/é",
  "b" : true
}`
	require.Equal(t, want, string(marshalJSON(v)))
	require.Equal(t, "{ }", string(marshalJSON(jsonObj{})))
}

// TestCommandResponseOrder: the data first, then command and error, and a
// command's own "error" keeps its place (CommandResponse.toMap).
func TestCommandResponseOrder(t *testing.T) {
	out := runCommand("stmk", &cmdContext{kwargs: map[string]string{}})
	require.Equal(t, `{
  "error" : "setTraceMask requires long traceMask argument",
  "command" : "set_trace_mask"
}`, string(marshalJSON(out)))
	out = runCommand("gtmk", &cmdContext{})
	require.Equal(t, "tracemask", out[0].k)
	require.Equal(t, "command", out[1].k)
	require.Equal(t, "error", out[2].k)
}

func TestJSONAddr(t *testing.T) {
	require.Equal(t, "127.0.0.1:2181", jsonAddr("127.0.0.1:2181"))
	require.Equal(t, "[0:0:0:0:0:0:0:1]:2181", jsonAddr("[::1]:2181"))
	require.Equal(t, "127.0.0.1:5", jsonAddr("[::ffff:127.0.0.1]:5"))
}
