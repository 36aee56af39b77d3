package report

import (
	"encoding/json"
	"io"
)

// A Line is one image of a JSONL result set (`scan --format jsonl`): the
// image and where it stands in its batch.
type Line struct {
	// Index is the image's position in the batch's list (arguments, then
	// --from), the same in every shard of a sharded run.
	Index int
	Image *Image
	// Source identifies the image file or object the result was made
	// from, so that --resume can tell whether it is still current; nil
	// when unknown.
	Source *Source
	// Resumed says the result was carried over from an earlier run
	// (--resume) instead of scanned again.
	Resumed bool
	// ToolVersion, when set, is the version of the imgcheck that scanned
	// the image (a line read back from a file); otherwise Options.Version.
	ToolVersion string
}

// Source identifies an image file or object: its size, and the ETag of an
// object or the modification time of a file.
type Source struct {
	Size    int64  `json:"size"`
	ETag    string `json:"etag,omitempty"`
	ModTime string `json:"mtime,omitempty"` // RFC 3339, local files only
}

// jsonLine is the JSON of a Line: the image object of the JSON report
// with the schema version and the batch position beside it.
type jsonLine struct {
	SchemaVersion string `json:"schema_version"`
	Index         int    `json:"index"`
	jsonImage
	Source  *Source `json:"source,omitempty"`
	Resumed bool    `json:"resumed,omitempty"`
}

// JSONLine writes l as one line of JSON (schema/report.schema.json,
// $defs/line): the image object of the JSON report plus schema_version,
// index, source and resumed. Every string is redacted.
func JSONLine(w io.Writer, l Line, o Options) error {
	if l.ToolVersion != "" {
		o.Version = l.ToolVersion
	}
	b, err := json.Marshal(jsonLine{SchemaVersion: SchemaVersion, Index: l.Index, jsonImage: toJSON(l.Image, o), Source: l.Source, Resumed: l.Resumed})
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// JSONL writes reports as JSON lines, one per image, indexed in order.
func JSONL(w io.Writer, reports []Image, o Options) error {
	for i := range reports {
		if err := JSONLine(w, Line{Index: i, Image: &reports[i]}, o); err != nil {
			return err
		}
	}
	return nil
}
