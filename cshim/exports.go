// Command cshim is libzkit.so: a small, flat C ABI over server/ensemble,
// built with
//
//	go build -buildmode=c-shared -o libzkit.so ./cshim
//
// zkit.h documents every function; including it here makes the C compiler
// check that the exports below match it. Each export converts its C
// arguments, calls the plain-Go function in api.go, copies the result into
// C memory and turns panics into errors: no Go pointer crosses the boundary
// and no panic unwinds into the caller.
package main

/*
#include <stdlib.h>
#include <stdint.h>
#include "zkit.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

func main() {} // required by -buildmode=c-shared; never runs

// cerr converts an error into a malloc'd C string (NULL for nil).
func cerr(err error) *C.char {
	if err == nil {
		return nil
	}
	return C.CString(err.Error())
}

// guard turns a panic into an error in *ret. Use as: defer guard(&ret).
func guard(ret **C.char) {
	if p := recover(); p != nil {
		*ret = cerr(internalError(p))
	}
}

var errNilOut = errors.New("zkit: the out parameter is NULL")

//export zkit_version
func zkit_version() (ret *C.char) {
	defer func() {
		if recover() != nil {
			ret = nil
		}
	}()
	return C.CString(versionString())
}

//export zkit_abi_version
func zkit_abi_version() C.int32_t { return abiVersion }

//export zkit_free
func zkit_free(p unsafe.Pointer) {
	C.free(p)
}

//export zkit_start
func zkit_start(config *C.char, handle *C.int64_t) (ret *C.char) {
	defer guard(&ret)
	if handle == nil {
		return cerr(errNilOut)
	}
	var raw []byte
	if config != nil {
		raw = []byte(C.GoString(config))
	}
	h, err := start(raw)
	if err != nil {
		return cerr(err)
	}
	*handle = C.int64_t(h)
	return nil
}

//export zkit_wait_ready
func zkit_wait_ready(handle C.int64_t, timeoutMS C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(waitReady(int64(handle), int64(timeoutMS)))
}

//export zkit_connect_string
func zkit_connect_string(handle C.int64_t, out **C.char) (ret *C.char) {
	defer guard(&ret)
	if out == nil {
		return cerr(errNilOut)
	}
	s, err := connectString(int64(handle))
	if err != nil {
		return cerr(err)
	}
	*out = C.CString(s)
	return nil
}

//export zkit_members
func zkit_members(handle C.int64_t, out **C.char) (ret *C.char) {
	defer guard(&ret)
	if out == nil {
		return cerr(errNilOut)
	}
	b, err := members(int64(handle))
	if err != nil {
		return cerr(err)
	}
	*out = C.CString(string(b))
	return nil
}

//export zkit_member_stop
func zkit_member_stop(handle, id C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(memberOp(int64(handle), int64(id), "stop"))
}

//export zkit_member_start
func zkit_member_start(handle, id C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(memberOp(int64(handle), int64(id), "start"))
}

//export zkit_member_kill
func zkit_member_kill(handle, id C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(memberOp(int64(handle), int64(id), "kill"))
}

//export zkit_member_restart
func zkit_member_restart(handle, id C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(memberOp(int64(handle), int64(id), "restart"))
}

//export zkit_partition
func zkit_partition(handle, id C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(partition(int64(handle), int64(id)))
}

//export zkit_heal
func zkit_heal(handle C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(heal(int64(handle)))
}

//export zkit_expire_session
func zkit_expire_session(handle, session C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(expireSession(int64(handle), int64(session)))
}

//export zkit_close
func zkit_close(handle C.int64_t) (ret *C.char) {
	defer guard(&ret)
	return cerr(closeEnsemble(int64(handle)))
}

//export zkit_next_log
func zkit_next_log(timeoutMS C.int64_t, max C.int32_t, out **C.char) (ret *C.char) {
	defer guard(&ret)
	if out == nil {
		return cerr(errNilOut)
	}
	*out = nil
	b, err := nextLogs(int64(timeoutMS), int(max))
	if err != nil {
		return cerr(err)
	}
	if b != nil {
		*out = C.CString(string(b))
	}
	return nil
}

// takeCString copies and frees a string the library returned (for tests,
// which cannot use cgo themselves).
func takeCString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

// panicForTest panics inside guard, as a bug in an export would.
func panicForTest() (ret *C.char) {
	defer guard(&ret)
	var m map[string]int
	m["boom"]++ // assignment to entry in nil map
	return nil
}
