package remote

import (
	"errors"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want contentRange
	}{
		{"bytes 0-65535/1048576", contentRange{0, 65535, 1048576}},
		{" bytes 100-100/101", contentRange{100, 100, 101}},
	} {
		got, err := parseContentRange(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseContentRange(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "bytes */1000", "bytes 0-99/*", "bytes 0-99", "items 0-99/100", "bytes 10-5/100",
		"bytes 0-100/100", "bytes -1-5/100", "bytes 0-9223372036854775808/9", "bytes 0x0-1/2",
	} {
		if got, err := parseContentRange(in); !errors.Is(err, ErrBadResponse) {
			t.Errorf("parseContentRange(%q) = %v, %v; want ErrBadResponse", in, got, err)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 0-65535/1048576")
	f.Add("bytes 5-4/3")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseContentRange(s)
		if err == nil && (c.start < 0 || c.end < c.start || c.total <= c.end) {
			t.Errorf("parseContentRange(%q) accepted %v", s, c)
		}
	})
}
