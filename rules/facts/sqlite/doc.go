// Package sqlite reads the rows of tables of an SQLite 3 database file,
// read-only, over an io.ReaderAt of known size: the database header and
// the schema are checked when the file is opened, a table's pages are
// read as its rows are handed out, one at a time.
//
// It exists because every Go SQLite driver opens host paths through a
// VFS: reading a database inside a disk image meant copying it out to the
// host first (to the reviewer's disk, whole, indexes included, even over
// HTTP where one table is needed), and the pure-Go driver cost every
// process ~1.4 ms of package initialisation and ~5 MB of binary.
//
// Supported: page sizes 512 to 65536, reserved bytes at the end of
// pages, table b-trees (interior and leaf pages) walked in rowid order,
// overflow chains, every serial type of the record format, UTF-8 and
// UTF-16 text, and a write-ahead log (the -wal file) whose last valid
// commit is applied as SQLite's recovery does. Not supported: queries,
// indexes (a table is read whole, in rowid order), WITHOUT ROWID tables,
// hot rollback journals, writing.
//
// The file is untrusted: every page number is checked against the
// database's size, a page met twice in one walk (a cycle in the tree or
// an overflow chain) is an error, trees deeper than SQLite's own limit
// are refused, and no value larger than File.MaxValue is read.
package sqlite
