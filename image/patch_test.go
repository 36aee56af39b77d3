package image_test

import "hash/crc32"

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// fixHeaderCRC recomputes the CRC of a 92-byte GPT header after a patch.
func fixHeaderCRC(h []byte) {
	putLE32(h[16:], 0)
	putLE32(h[16:], crc32.ChecksumIEEE(h[:92]))
}
