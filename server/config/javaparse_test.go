package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJavaParsers(t *testing.T) {
	t.Run("parseInt is Integer.parseInt", func(t *testing.T) {
		for in, want := range map[string]int{"0": 0, "+7": 7, "-12": -12, "2147483647": 1<<31 - 1} {
			got, err := parseInt(in)
			require.NoError(t, err, in)
			require.Equal(t, want, got, in)
		}
		for in, msg := range map[string]string{
			"":           `"" is not an integer`,
			"abc":        `"abc" is not an integer`,
			"1_000":      `"1_000" is not an integer`,
			"0x10":       `"0x10" is not an integer`,
			"2147483648": `"2147483648" is out of range`,
		} {
			_, err := parseInt(in)
			require.EqualError(t, err, msg, in)
		}
	})
	t.Run("decodeInt is Integer.decode", func(t *testing.T) {
		for in, want := range map[string]int{
			"10": 10, "0x10": 16, "0X1f": 31, "#ff": 255, "010": 8, "-0x10": -16, "+5": 5, "0": 0,
			"-2147483648": -1 << 31,
		} {
			got, err := decodeInt(in)
			require.NoError(t, err, in)
			require.Equal(t, want, got, in)
		}
		for _, in := range []string{"", "0x", "-", "0x-1", "--1", "09", "1e3", "2147483648"} {
			_, err := decodeInt(in)
			require.Error(t, err, in)
		}
	})
	t.Run("javaSplit is String.split", func(t *testing.T) {
		require.Equal(t, []string{""}, javaSplit("", ":"))
		require.Equal(t, []string{}, javaSplit(":::", ":"))
		require.Equal(t, []string{"", "a"}, javaSplit(":a::", ":"))
		require.Equal(t, []string{"h", "1", "2"}, javaSplit("h:1:2", ":"))
	})
	t.Run("javaTrim is String.trim", func(t *testing.T) {
		require.Equal(t, "a b", javaTrim("\x00\t a b\r\n\f "))
	})
	t.Run("parseBool is strict true/false", func(t *testing.T) {
		for in, want := range map[string]bool{"true": true, "TRUE": true, "False": false} {
			got, err := parseBool(in)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
		_, err := parseBool("yes")
		require.EqualError(t, err, `"yes" is not a boolean (want true or false)`)
	})
}
