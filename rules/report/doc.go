// Package report turns rule results into the reports people and CI read:
// grouped text, versioned JSON, SARIF 2.1.0 and JUnit XML, the batch
// summary table, waivers and the exit code.
//
// Reports are pure functions of their input: an Image value holds what the
// CLI learned about one image (container chain, partition table,
// filesystems, OS, rule results) and every writer reads only that. Every
// string is passed through the redactor on its way out, so a password hash,
// a private key, an API token or a URL password that slipped into a finding
// never reaches an output file.
package report
