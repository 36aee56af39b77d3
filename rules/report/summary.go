package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Summary writes the batch table: one row per image, sorted by path, with
// its OS, release, PASS/WARN/FAIL counts, virtual disk size and verdict. An
// image that could not be scanned shows its one-line reason instead of the
// OS. A totals line closes the table.
func Summary(w io.Writer, reports []Image, o Options) error {
	idx := make([]int, len(reports))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(reports[a].Path, reports[b].Path) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tOS\tRELEASE\tPASS\tWARN\tFAIL\tERROR\tDISK\tVERDICT")
	verdicts := map[Verdict]int{}
	for _, i := range idx {
		im := &reports[i]
		c := im.Count()
		v := im.Verdict()
		verdicts[v]++
		osName, release := im.OS.Name, im.OS.VersionID
		if im.Err != nil {
			osName, release = "-", "-"
		}
		disk := "-"
		if im.VirtualSize > 0 {
			disk = fmt.Sprintf("%.2f GiB", float64(im.VirtualSize)/(1<<30))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", redact(im.Path), dash(osName), dash(release),
			c.Pass, c.Warn, c.Fail, c.Error, disk, o.verdictText(v))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, i := range idx {
		if im := &reports[i]; im.Err != nil {
			fmt.Fprintf(w, "%s: %s\n", redact(im.Path), redact(oneLine(im.Err.Error())))
		}
	}
	_, err := fmt.Fprintf(w, "%d images: %d pass, %d warn, %d fail, %d error\n", len(reports),
		verdicts[VerdictPass], verdicts[VerdictWarn], verdicts[VerdictFail], verdicts[VerdictError])
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (o Options) verdictText(v Verdict) string {
	s := strings.ToUpper(string(v))
	if !o.Color {
		return s
	}
	lv := map[Verdict]string{VerdictPass: "32", VerdictWarn: "33", VerdictFail: "1;31", VerdictError: "1;35"}[v]
	return "\x1b[" + lv + "m" + s + "\x1b[0m"
}
