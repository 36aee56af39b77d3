package facts

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sshKeyTypes are the key types recognised in authorized_keys.
var sshKeyTypes = func() map[string]bool {
	base := []string{
		"ssh-rsa", "ssh-dss", "ssh-ed25519",
		"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
	}
	m := map[string]bool{}
	for _, t := range base {
		m[t] = true
		m[strings.TrimSuffix(t, "@openssh.com")+"-cert-v01@openssh.com"] = true
	}
	return m
}()

// maxComment is the longest key comment shown in evidence.
const maxComment = 64

// AuthorizedKey is one valid key line of an authorized_keys file.
type AuthorizedKey struct {
	Line        int    // 1-based line number
	Type        string // key type, e.g. "ssh-ed25519"
	Fingerprint string // "SHA256:<unpadded base64>" as ssh-keygen -l prints it (a certificate: of its key)
	Comment     string // cut to 64 characters
	Options     bool   // the line carries options before the key type
}

// ParseAuthorizedKeys parses the content of an authorized_keys file.
// It returns the valid keys and the line numbers of
// non-empty, non-comment lines that hold no parsable key.
func ParseAuthorizedKeys(data []byte) (keys []AuthorizedKey, bad []int) {
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, ok := parseKeyLine(line)
		if !ok {
			bad = append(bad, i+1)
			continue
		}
		k.Line = i + 1
		keys = append(keys, k)
	}
	return keys, bad
}

// parseKeyLine finds the first token that is a known key type; the tokens
// before it are options, the next one the base64 blob, the rest the comment.
func parseKeyLine(line string) (AuthorizedKey, bool) {
	rest := line
	options := false
	for rest != "" {
		tok, after := nextToken(rest)
		if sshKeyTypes[tok] {
			blobText, comment := nextToken(after)
			blob, err := base64.StdEncoding.DecodeString(blobText)
			if err != nil {
				return AuthorizedKey{}, false
			}
			if t, _, ok := sshString(blob); !ok || string(t) != tok {
				return AuthorizedKey{}, false
			}
			return AuthorizedKey{Type: tok, Fingerprint: Fingerprint(plainKey(blob)),
				Comment: cutComment(comment), Options: options}, true
		}
		options = true
		rest = after
	}
	return AuthorizedKey{}, false
}

// nextToken splits off the first blank-separated token of s. Double quotes
// group (an option such as command="a b" is one token) and a backslash
// escapes the next character inside them. after has leading blanks removed.
func nextToken(s string) (tok, after string) {
	s = strings.TrimLeft(s, " \t")
	quoted := false
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && quoted && i+1 < len(s):
			i++
		case c == '"':
			quoted = !quoted
		case (c == ' ' || c == '\t') && !quoted:
			return s[:i], strings.TrimLeft(s[i:], " \t")
		}
	}
	return s, ""
}

// plainKey returns the blob of the key a certificate certifies, which is
// what ssh-keygen -l fingerprints; other blobs are returned unchanged.
func plainKey(blob []byte) []byte {
	pk, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return blob
	}
	if cert, ok := pk.(*ssh.Certificate); ok {
		return cert.Key.Marshal()
	}
	return blob
}

func cutComment(c string) string {
	c = strings.TrimSpace(c)
	if r := []rune(c); len(r) > maxComment {
		return string(r[:maxComment])
	}
	return c
}

// Fingerprint returns the SHA256 fingerprint of a public-key blob in the
// form ssh-keygen -l prints: "SHA256:" and the unpadded standard base64.
func Fingerprint(blob []byte) string {
	sum := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// sshString reads one SSH wire-format string (uint32 length, bytes).
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// PrivateKey describes a private key recognised by content.
// It never holds key material.
type PrivateKey struct {
	Format string // "openssh", "pem-rsa", "pem-ec", "pem-dsa", "pkcs8", "pkcs8-encrypted", "ssh2", "putty"
	// Encrypted is "yes", "no" or "unknown".
	Encrypted string
	// Type and Fingerprint describe the public half; both are empty when
	// it cannot be derived (an encrypted PEM key, a damaged file).
	Type        string
	Fingerprint string
}

// KeyScanLimit is how much of a file private-key detection looks at.
const KeyScanLimit = 64 << 10

// pemFormats maps the PEM labels of private keys to their format names.
var pemFormats = map[string]string{
	"OPENSSH PRIVATE KEY":   "openssh",
	"RSA PRIVATE KEY":       "pem-rsa",
	"EC PRIVATE KEY":        "pem-ec",
	"DSA PRIVATE KEY":       "pem-dsa",
	"PRIVATE KEY":           "pkcs8",
	"ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
}

// DetectPrivateKey reports whether data holds a private key, looking only at
// its first 64 KiB: a PEM BEGIN line with a private-key label, an SSH2
// (ssh.com) key, or a PuTTY key file. For OpenSSH and PuTTY keys the public
// half is read from the unencrypted public section; for unencrypted PEM and
// PKCS#8 keys it is derived.
func DetectPrivateKey(data []byte) (PrivateKey, bool) {
	if len(data) > KeyScanLimit {
		data = data[:KeyScanLimit]
	}
	if bytes.HasPrefix(data, []byte("PuTTY-User-Key-File-")) {
		return puttyKey(data), true
	}
	for _, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----" {
			return ssh2Key(data), true
		}
		label, ok := strings.CutPrefix(line, "-----BEGIN ")
		if !ok {
			continue
		}
		label, ok = strings.CutSuffix(label, "-----")
		if format, known := pemFormats[label]; ok && known {
			return pemKey(data, label, format), true
		}
	}
	return PrivateKey{}, false
}

// pemKey describes the first PEM block labelled label.
func pemKey(data []byte, label, format string) PrivateKey {
	k := PrivateKey{Format: format, Encrypted: "unknown"}
	var block *pem.Block
	for rest := data; ; {
		block, rest = pem.Decode(rest)
		if block == nil || block.Type == label {
			break
		}
	}
	if block == nil {
		return k
	}
	switch {
	case format == "openssh":
		return opensshKey(block.Bytes)
	case format == "pkcs8-encrypted" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
		k.Encrypted = "yes"
		return k
	}
	k.Encrypted = "no"
	if format == "pem-dsa" {
		return withPublicBlob(k, dsaPublicBlob(block.Bytes))
	}
	raw, err := ssh.ParseRawPrivateKey(pem.EncodeToMemory(block))
	if err != nil {
		return k
	}
	signer, ok := raw.(crypto.Signer)
	if !ok {
		return k
	}
	if sp, err := ssh.NewPublicKey(signer.Public()); err == nil {
		k.Type, k.Fingerprint = sp.Type(), ssh.FingerprintSHA256(sp)
	}
	return k
}

// dsaPublicBlob derives the "ssh-dss" public blob from OpenSSL's DSA private
// key encoding (SEQUENCE of version, p, q, g, y, x). x/crypto/ssh no longer
// reads DSA keys, so this is done here; it returns nil on malformed input.
func dsaPublicBlob(der []byte) []byte {
	var k struct {
		Version       int
		P, Q, G, Y, X *big.Int
	}
	if rest, err := asn1.Unmarshal(der, &k); err != nil || len(rest) != 0 {
		return nil
	}
	return ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{ssh.KeyAlgoDSA, k.P, k.Q, k.G, k.Y})
}

// opensshKey reads the header of an "openssh-key-v1" body: cipher name,
// KDF, and the first public key, which is never encrypted.
func opensshKey(body []byte) PrivateKey {
	k := PrivateKey{Format: "openssh", Encrypted: "unknown"}
	rest, ok := bytes.CutPrefix(body, []byte("openssh-key-v1\x00"))
	if !ok {
		return k
	}
	cipher, rest, ok := sshString(rest)
	if !ok {
		return k
	}
	k.Encrypted = yesNo(string(cipher) != "none")
	if _, rest, ok = sshString(rest); !ok { // kdfname
		return k
	}
	if _, rest, ok = sshString(rest); !ok { // kdfoptions
		return k
	}
	if len(rest) < 4 || binary.BigEndian.Uint32(rest) < 1 {
		return k
	}
	pub, _, ok := sshString(rest[4:])
	if !ok {
		return k
	}
	return withPublicBlob(k, pub)
}

// withPublicBlob sets the key type and fingerprint from a public-key blob.
func withPublicBlob(k PrivateKey, blob []byte) PrivateKey {
	if t, _, ok := sshString(blob); ok && sshKeyTypes[string(t)] {
		k.Type, k.Fingerprint = string(t), Fingerprint(blob)
	}
	return k
}

// puttyKey reads a PuTTY key file's header: "Encryption:" and the
// base64 "Public-Lines:" block, which PuTTY never encrypts.
func puttyKey(data []byte) PrivateKey {
	k := PrivateKey{Format: "putty", Encrypted: "unknown"}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i, l := range lines {
		name, value, _ := strings.Cut(l, ": ")
		switch name {
		case "Encryption":
			k.Encrypted = yesNo(value != "none")
		case "Public-Lines":
			n := 0
			for _, c := range value {
				if c < '0' || c > '9' || n > 1000 {
					return k
				}
				n = n*10 + int(c-'0')
			}
			if i+1+n > len(lines) {
				return k
			}
			blob, err := base64.StdEncoding.DecodeString(strings.Join(lines[i+1:i+1+n], ""))
			if err != nil {
				return k
			}
			return withPublicBlob(k, blob)
		}
	}
	return k
}

// ssh2Key reads the cipher name of an SSH2 (ssh.com, RFC 4716 framing)
// private key: magic 0x3f6ff9eb, total length, key type, cipher name.
func ssh2Key(data []byte) PrivateKey {
	k := PrivateKey{Format: "ssh2", Encrypted: "unknown"}
	var b64 strings.Builder
	in, cont := false, false
	for _, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----":
			in = true
		case !in:
		case strings.HasPrefix(line, "---- END"):
			in = false
		case cont || strings.Contains(line, ":"):
			cont = strings.HasSuffix(line, "\\") // header continuation
		default:
			b64.WriteString(line)
		}
	}
	body, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil || len(body) < 8 || binary.BigEndian.Uint32(body) != 0x3f6ff9eb {
		return k
	}
	if _, rest, ok := sshString(body[8:]); ok {
		if cipher, _, ok := sshString(rest); ok {
			k.Encrypted = yesNo(string(cipher) != "none")
		}
	}
	return k
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
