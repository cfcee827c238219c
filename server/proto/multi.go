package proto

import (
	"fmt"

	"zkit/server/jute"
)

// MultiOp is one operation of a multi or multiRead request.
type MultiOp struct {
	Type Op
	Body Record // *CreateRequest, *PathVersionRecord, *SetDataRequest or *PathWatchRequest
}

// Path returns the operation's path.
func (o *MultiOp) Path() string {
	switch b := o.Body.(type) {
	case *CreateRequest:
		return b.Path
	case *PathVersionRecord:
		return b.Path
	case *SetDataRequest:
		return b.Path
	case *PathWatchRequest:
		return b.Path
	}
	return ""
}

// MultiRequest is the body of multi (opcode 14) and multiRead (22): each op
// behind a MultiHeader, closed by a header with done set
// (MultiOperationRecord).
type MultiRequest struct {
	Ops []MultiOp
}

// Encode writes the record.
func (r *MultiRequest) Encode(e *jute.Encoder) {
	for i := range r.Ops {
		h := MultiHeader{Type: r.Ops[i].Type, Done: false, Err: -1}
		h.Encode(e)
		r.Ops[i].Body.Encode(e)
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// ErrBadMultiOp is reported for an op type a multi cannot carry; ZooKeeper
// fails the whole request with a marshalling error.
type ErrBadMultiOp Op

func (e ErrBadMultiOp) Error() string { return fmt.Sprintf("invalid type of op %d in multi", int32(e)) }

// Decode reads the record.
func (r *MultiRequest) Decode(d *jute.Decoder) {
	r.Ops = r.Ops[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		body := newMultiOpBody(h.Type)
		if body == nil {
			d.Fail(ErrBadMultiOp(h.Type))
			return
		}
		body.Decode(d)
		typ := h.Type
		if cr, ok := body.(*CreateRequest); ok && d.Err() == nil {
			var err error
			if typ, err = createOpType(h.Type, cr); err != nil {
				d.Fail(err)
				return
			}
		}
		r.Ops = append(r.Ops, MultiOp{Type: typ, Body: body})
	}
}

// createOpType is the opcode a create inside a multi really has: as
// MultiOperationRecord builds its Op, the flags decide — a container mode
// makes it createContainer, a TTL mode createTTL — and a createTTL with a
// mode that has no TTL becomes a plain create whose ttl is ignored.
func createOpType(header Op, cr *CreateRequest) (Op, error) {
	const container, ttl, ttlSeq = 4, 5, 6
	validMode := cr.Flags >= 0 && cr.Flags <= 6
	if header == OpCreateTTL {
		if validMode && (cr.Flags == ttl || cr.Flags == ttlSeq) {
			return OpCreateTTL, nil
		}
		cr.HasTTL, cr.TTL = false, 0
		if cr.Flags == container {
			return OpCreateContainer, nil
		}
		return OpCreate, nil
	}
	switch {
	case !validMode:
		// ZooKeeper 3.8 keeps the op and fails it in prep (BADARGUMENTS);
		// 3.9 fails the whole multi. zkit answers as 3.8.
		return header, nil
	case cr.Flags == ttl || cr.Flags == ttlSeq:
		return 0, fmt.Errorf("a TTL create mode needs createTTL")
	case cr.Flags == container:
		return OpCreateContainer, nil
	}
	return header, nil
}

func newMultiOpBody(t Op) Record {
	switch t {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateRequest{HasTTL: true}
	case OpDelete, OpCheck:
		return &PathVersionRecord{}
	case OpSetData:
		return &SetDataRequest{}
	case OpGetChildren, OpGetData:
		return &PathWatchRequest{}
	}
	return nil
}

// OpResult is the result of one operation of a multi.
type OpResult struct {
	Type     Op // the op's type, or OpError
	Err      Err
	Path     string
	Stat     Stat
	Data     []byte
	Children []string
}

// MultiResponse is the reply of multi and multiRead.
type MultiResponse struct {
	Results []OpResult
}

// Encode writes the record (MultiResponse.serialize).
func (r *MultiResponse) Encode(e *jute.Encoder) {
	for i := range r.Results {
		res := &r.Results[i]
		var err Err
		if res.Type == OpError {
			err = res.Err
		}
		h := MultiHeader{Type: res.Type, Done: false, Err: err}
		h.Encode(e)
		switch res.Type {
		case OpCreate:
			e.String(res.Path)
		case OpCreate2, OpCreateTTL, OpCreateContainer:
			e.String(res.Path)
			res.Stat.Encode(e)
		case OpSetData:
			res.Stat.Encode(e)
		case OpGetChildren:
			e.Strings(res.Children)
		case OpGetData:
			e.Buffer(res.Data)
			res.Stat.Encode(e)
		case OpError:
			e.Int(int32(res.Err))
		}
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// Decode reads the record.
func (r *MultiResponse) Decode(d *jute.Decoder) {
	r.Results = r.Results[:0]
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		res := OpResult{Type: h.Type}
		switch h.Type {
		case OpCreate:
			res.Path = d.String()
		case OpCreate2, OpCreateTTL, OpCreateContainer:
			res.Path = d.String()
			res.Stat.Decode(d)
		case OpSetData:
			res.Stat.Decode(d)
		case OpGetChildren:
			res.Children = d.Strings()
		case OpGetData:
			res.Data = d.BufferCopy()
			res.Stat.Decode(d)
		case OpError:
			res.Err = Err(d.Int())
		case OpDelete, OpDeleteContainer, OpCheck:
		default:
			d.Fail(ErrBadMultiOp(h.Type))
		}
		r.Results = append(r.Results, res)
	}
}
