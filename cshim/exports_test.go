package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExportsRecoverPanics(t *testing.T) {
	require.Equal(t, "zkit: internal error: assignment to entry in nil map", takeCString(panicForTest()))
}

func TestExportsCheckTheirArguments(t *testing.T) {
	require.Equal(t, errNilOut.Error(), takeCString(zkit_start(nil, nil)))
	require.Equal(t, errNilOut.Error(), takeCString(zkit_members(1, nil)))
	require.Equal(t, errNilOut.Error(), takeCString(zkit_next_log(0, 0, nil)))
	require.Contains(t, takeCString(zkit_heal(-5)), "no ensemble with handle -5")
	require.Contains(t, takeCString(zkit_close(12345)), "closed already")
	require.EqualValues(t, abiVersion, zkit_abi_version())
	require.Contains(t, takeCString(zkit_version()), "abi 1")
}
