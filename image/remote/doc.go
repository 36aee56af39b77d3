// Package remote reads a disk image where it is stored, over HTTP(S) range
// requests or S3 GetObject ranges, as an io.ReaderAt: only the blocks a
// reader asks for cross the network.
//
// An Object pins the object's version (ETag, or Last-Modified) when it is
// opened and sends it as a precondition with every later request, so an
// object replaced during a scan is an error (ErrChanged), never a mix of
// two images. Every response's Content-Range is checked against the range
// asked for and the size seen at open. A server that ignores Range and
// answers 200 with the whole body is refused (ErrRangeIgnored) and its
// body closed at once: nothing is downloaded by accident.
//
// Reads go through a block cache: neighbouring missing blocks, and a
// read-ahead window that grows while reads are sequential, are fetched
// with one request; at most a fixed number of requests run at once; and a
// request that fails with a 5xx status, a timeout or a broken connection
// is retried with exponential backoff.
//
// URLs are printed redacted (no password, no query string, which for a
// presigned URL holds the signature), and credentials never are.
package remote
