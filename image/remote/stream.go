package remote

import "io"

// streamChunk is the size of one request of a Stream.
const streamChunk = 8 << 20

// Stream returns a reader of the whole object from its start, for a
// download made on purpose. It asks for streamChunk bytes at a time,
// bypassing the cache, and each request is pinned, checked and retried
// like any other.
func (obj *Object) Stream() io.Reader { return &stream{obj: obj} }

type stream struct {
	obj *Object
	pos int64
	buf []byte
	err error
}

func (s *stream) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.pos >= s.obj.size {
			return 0, io.EOF
		}
		chunk := make([]byte, min(streamChunk, s.obj.size-s.pos))
		if err := s.obj.fetchInto(chunk, s.pos); err != nil {
			s.err = err
			return 0, err
		}
		s.buf, s.pos = chunk, s.pos+int64(len(chunk))
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}
