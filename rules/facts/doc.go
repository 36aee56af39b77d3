// Package facts computes what rules know about a guest: memoised facts over
// a *fsinspect.Guest (OS release and family, accounts and homes, dpkg and
// rpm packages, apt and updateinfo updates, the effective sshd config,
// systemd unit state, commands on root's PATH, /var/log) and the pure
// parsers behind them. It makes no decision: findings are the rules' job.
//
// Each fact lives in its own file with an accessor built on Memo; a fact
// that fails keeps its fault, and every read of a guest file is capped.
//
// rpm databases (Berkeley DB, NDB, SQLite) are read by this package a
// header at a time, keeping each package's name, epoch, version, release
// and architecture only. go-rpmdb, which it used before and which its
// tests keep as an oracle, keeps every package's file lists: 10 MiB for
// the 396 packages of a real CentOS 7 database (this reader: 0.1 MiB),
// 288 MiB for one 32 MiB header of 16 million one-letter file names; it
// walks a Berkeley DB page by page through system calls (11 s for a
// sparse 500 MiB file claiming all its pages; a whole scan with this
// reader: 0.2 s), and opens only host paths, so every format had to be
// copied out of the image. Here every format is read in place, an
// rpmdb.sqlite (with its write-ahead log) by package sqlite below.
package facts
