package sqlite

// readAhead is how much of the database file a walk reads at once once
// it reads pages in order: the pages of a table and of its overflow
// chains mostly follow each other in the file, so one read serves the
// next several pages.
const readAhead = 256 << 10

// A window holds consecutive pages of the database file read at once.
type window struct {
	buf   []byte
	first uint32 // page number of buf's first page; 0 when empty
	n     uint32 // pages in buf
	last  uint32 // the page read last from the file
}

// read reads page n into b. A page the log holds is read from the log. A
// page of the file is read alone, unless it follows the one read before
// it: then with the pages after it, up to readAhead bytes, kept for the
// reads to come.
func (w *walk) read(n uint32, b []byte) error {
	f, win := w.f, &w.win
	if _, ok := f.wal[n]; ok || n == 0 || n > f.pages {
		return f.readPage(n, b)
	}
	if win.n == 0 || n < win.first || n >= win.first+win.n {
		sequential := win.last != 0 && n == win.last+1
		win.last = n
		ps := f.pageSize
		count := min(int64(f.pages-n+1), readAhead/ps, (f.size-int64(n-1)*ps)/ps)
		if !sequential || count < 2 {
			return f.readPage(n, b)
		}
		if win.buf == nil {
			win.buf = make([]byte, max(readAhead, ps))
		}
		win.n = 0
		if err := readFull(f.r, win.buf[:count*ps], int64(n-1)*ps); err != nil {
			return err
		}
		win.first, win.n = n, uint32(count)
	}
	off := int64(n-win.first) * f.pageSize
	copy(b, win.buf[off:off+f.pageSize])
	return nil
}
