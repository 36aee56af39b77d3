package imgcheck_test

import (
	"testing"

	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/imgcheck"
)

func counted(rule string, l rules.Level) rules.Finding {
	return rules.Finding{Rule: rule, Level: l}
}

func TestParityCountsAndExitCode(t *testing.T) {
	res := func(fs ...rules.Finding) []rules.Result { return []rules.Result{{Findings: fs}} }
	for _, tc := range []struct {
		name                         string
		rs                           []rules.Result
		pass, warn, fail, status, rc int
	}{
		{"all pass", res(counted("os.supported", rules.Pass), counted("root.history", rules.Pass)), 2, 0, 0, 0, 0},
		{"Q1 user findings do not count", res(counted("os.supported", rules.Pass),
			rules.Finding{Rule: "users.password", Level: rules.Fail}, rules.Finding{Rule: "users.ssh", Level: rules.Warn}), 1, 0, 0, 0, 0},
		{"Q3 firewall WARN keeps status", res(counted("fw.active", rules.Warn)), 0, 1, 0, 0, 0},
		{"a log WARN sets status 1", res(counted("logs.uncleared", rules.Warn)), 0, 1, 0, 1, 0},
		{"FAIL then WARN stays 2", res(counted("root.password", rules.Fail), counted("logs.uncleared", rules.Warn)), 0, 1, 1, 2, 1},
		{"INFO, SKIP and ERROR are not counted; ERROR exits 3", res(counted("os.supported", rules.Pass),
			rules.Finding{Rule: "root.ssh", Level: rules.Info}, rules.Finding{Rule: "x", Level: rules.Error}), 1, 0, 0, 0, 3},
		{"FAIL outranks ERROR", res(counted("root.password", rules.Fail), rules.Finding{Rule: "x", Level: rules.Error}), 0, 0, 1, 2, 1},
		{"unknown OS exits 1", res(rules.Finding{Rule: "os.supported", Level: rules.Fail,
			Evidence: []rules.KV{{Key: imgcheck.KeyExiting, Value: "yes"}}}), 0, 0, 1, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, w, f, s := imgcheck.Counts(tc.rs)
			if p != tc.pass || w != tc.warn || f != tc.fail || s != tc.status {
				t.Errorf("counts = %d/%d/%d status %d, want %d/%d/%d status %d", p, w, f, s, tc.pass, tc.warn, tc.fail, tc.status)
			}
			if rc := imgcheck.ExitCode(tc.rs); rc != tc.rc {
				t.Errorf("exit code %d, want %d", rc, tc.rc)
			}
		})
	}
	stop := res(rules.Finding{Rule: "os.supported", Level: rules.Fail, Evidence: []rules.KV{{Key: imgcheck.KeyExiting, Value: "yes"}}})
	if !imgcheck.Stops(stop) || imgcheck.Stops(res(counted("os.supported", rules.Fail))) {
		t.Error("Stops must follow the os.supported exiting evidence")
	}
}
