package imgcheck

import "github.com/imgcheck/imgcheck/rules"

// Parity bookkeeping for the img_check profile: how the
// script's PASS, WARN and FAIL counters and its STATUS come out of the
// findings, and which exit code img_check.sh v1.8.1 would return.

// KeyParity marks a finding for which img_check.sh prints no line. Rules
// must emit at least one finding, but the script is often silent (no log
// matched a loop, no shadow line named the user, no .bash_history): such
// findings carry KeyParity with the value ParityNoLine, and the text frame
// skips them.
const (
	KeyParity    = "parity"
	ParityNoLine = "no line printed by img_check.sh"
)

// Silent reports whether img_check.sh prints no line for f.
func Silent(f rules.Finding) bool { return f.Get(KeyParity) == ParityNoLine }

// Counts replays the script's counters over the findings of an
// img_check run, in order: a counted PASS increments pass; a counted WARN
// increments warn and raises status to 1 (except the firewall's, Q3); a
// counted FAIL increments fail and sets status to 2. INFO, SKIP, ERROR and
// findings Counted rejects (the Q1 user checks) change nothing. A folded
// finding counts for the findings it stands for.
func Counts(results []rules.Result) (pass, warn, fail, status int) {
	for _, r := range results {
		for _, f := range r.Findings {
			if !Counted(f) {
				continue
			}
			switch n := weight(f); f.Level {
			case rules.Pass:
				pass += n
			case rules.Warn:
				warn += n
				if f.Rule != "fw.active" && status < 1 {
					status = 1
				}
			case rules.Fail:
				fail += n
				status = 2
			}
		}
	}
	return pass, warn, fail, status
}

// Stops reports whether the script stops after its OS check: the
// operating system is not one it knows, so it prints "Exiting..." and
// exits 1 without a summary.
func Stops(results []rules.Result) bool {
	for _, r := range results {
		for _, f := range r.Findings {
			if f.Rule == "os.supported" && f.Level == rules.Fail && f.Get(KeyExiting) == "yes" {
				return true
			}
		}
	}
	return false
}

// ExitCode is the exit code of an img_check run:
// 1 for an unknown OS or STATUS 2; otherwise 3 when any finding is an
// ERROR, because the prediction is then unreliable; otherwise 0.
func ExitCode(results []rules.Result) int {
	if Stops(results) {
		return 1
	}
	if _, _, _, status := Counts(results); status == 2 {
		return 1
	}
	for _, r := range results {
		for _, f := range r.Findings {
			if f.Level == rules.Error {
				return 3
			}
		}
	}
	return 0
}

// Evidence keys the text frame reads.
const (
	KeyExiting = "exiting" // "yes" on the os.supported FAIL: the script prints "Exiting..." and stops
	KeyHint    = "hint"    // the lines printed after the agent FAIL, in order
	KeyStatus  = "status"  // "no" on the firewall WARN: counted but STATUS unchanged (Q3)
)

// Counted reports whether f changed the script's counters: a PASS, WARN
// or FAIL line the script prints for one of the checks it counts. INFO,
// SKIP, ERROR, silent findings and the user-created accounts' lines (Q1)
// change nothing.
func Counted(f rules.Finding) bool {
	switch f.Level {
	case rules.Pass, rules.Warn, rules.Fail:
		return counted[f.Rule] && !Silent(f)
	}
	return false
}
