// Package facts computes what rules know about a guest: memoised facts over
// a *fsinspect.Guest (OS release and family, accounts and homes, dpkg and
// rpm packages, apt and updateinfo updates, the effective sshd config,
// systemd unit state, commands on root's PATH, /var/log) and the pure
// parsers behind them. It makes no decision: findings are the rules' job.
//
// Each fact lives in its own file with an accessor built on Memo; a fact
// that fails keeps its fault, and every read of a guest file is capped.
package facts
