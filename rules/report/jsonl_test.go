package report

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileLineSchema compiles $defs/line of the report schema.
func compileLineSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return compileSchemaAt(t, "schema/report.schema.json", "#/$defs/line")
}

// TestJSONLValidatesAgainstSchema: every line is one image object of
// $defs/line, with its index, on one line.
func TestJSONLValidatesAgainstSchema(t *testing.T) {
	s := compileLineSchema(t)
	var buf bytes.Buffer
	if err := JSONL(&buf, sampleImages(), Options{Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(sampleImages()) {
		t.Fatalf("%d lines for %d images:\n%s", len(lines), len(sampleImages()), buf.String())
	}
	for i, l := range lines {
		validate(t, s, []byte(l))
		if !strings.Contains(l, fmt.Sprintf(`"schema_version":"2","index":%d,"path":`, i)) {
			t.Errorf("line %d does not start with its schema version and index: %.80s", i, l)
		}
	}
	for _, needle := range []string{plantedHash, plantedToken} {
		if strings.Contains(buf.String(), needle) {
			t.Errorf("JSONL holds the secret %q", needle)
		}
	}
	// The schema is closed: an unknown field or a missing index fails.
	for _, bad := range []string{
		strings.Replace(lines[0], `"index":0,`, `"index":0,"bogus":1,`, 1),
		strings.Replace(lines[0], `"index":0,`, ``, 1),
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if s.Validate(inst) == nil {
			t.Errorf("a bad line validates: %.120s", bad)
		}
	}
}

// TestReadResultsRoundTrip reads JSONL and JSON back: writing what was
// read gives the same bytes, sources and resume marks included.
func TestReadResultsRoundTrip(t *testing.T) {
	o := Options{Version: "1.2.3"}
	var want bytes.Buffer
	for i, im := range sampleImages() {
		l := Line{Index: 10 + i, Image: &im}
		if i == 1 {
			l.Source, l.Resumed = &Source{Size: 42, ETag: `"abc"`}, true
		}
		if err := JSONLine(&want, l, o); err != nil {
			t.Fatal(err)
		}
	}
	var got bytes.Buffer
	err := ReadResults(bytes.NewReader(want.Bytes()), func(l Line) error {
		return JSONLine(&got, l, Options{Version: "other"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("JSONL round trip differs:\n%s", firstLineDiff(got.String(), want.String()))
	}

	// A JSON document reads as the same images, indexed by position.
	doc := render(t, "json", sampleImages(), o)
	var fromDoc, direct bytes.Buffer
	if err := ReadResults(bytes.NewReader(doc), func(l Line) error { return JSONLine(&fromDoc, l, o) }); err != nil {
		t.Fatal(err)
	}
	JSONL(&direct, sampleImages(), o)
	if fromDoc.String() != direct.String() {
		t.Errorf("JSON → JSONL differs from JSONL:\n%s", firstLineDiff(fromDoc.String(), direct.String()))
	}
}

func TestReadResultsRejects(t *testing.T) {
	var one bytes.Buffer
	JSONL(&one, sampleImages()[:1], Options{})
	line := strings.TrimSpace(one.String())
	for name, in := range map[string]string{
		"empty":          "",
		"not JSON":       "hello\n",
		"old schema":     strings.Replace(line, `"schema_version":"2"`, `"schema_version":"1"`, 1),
		"no path":        strings.Replace(line, `"path":"images/clean.qcow2"`, `"path":""`, 1),
		"bad level":      strings.Replace(line, `"level":"pass"`, `"level":"great"`, 1),
		"truncated line": line[:len(line)/2],
	} {
		if err := ReadResults(strings.NewReader(in), func(Line) error { return nil }); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	// A field added later within schema version 2 is ignored.
	newer := strings.Replace(line, `"index":0,`, `"index":0,"added_later":{"x":1},`, 1)
	if err := ReadResults(strings.NewReader(newer), func(Line) error { return nil }); err != nil {
		t.Errorf("a newer line with an unknown field: %v", err)
	}
}

func firstLineDiff(got, want string) string {
	g, w := bufio.NewScanner(strings.NewReader(got)), bufio.NewScanner(strings.NewReader(want))
	g.Buffer(nil, 1<<24)
	w.Buffer(nil, 1<<24)
	for n := 1; ; n++ {
		gok, wok := g.Scan(), w.Scan()
		if !gok && !wok {
			return "same lines"
		}
		if g.Text() != w.Text() {
			return fmt.Sprintf("line %d:\n got:  %s\n want: %s", n, g.Text(), w.Text())
		}
	}
}
