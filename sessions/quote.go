package sessions

import (
	"strconv"
	"unicode/utf8"
)

// asciiQuoted is what strconv.AppendQuote writes for each ASCII byte,
// between the quotes; plain marks the bytes it writes as they are
// (printable ASCII other than the quote and the backslash).
var asciiQuoted, plain = func() (q [utf8.RuneSelf]string, plain [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		s := strconv.Quote(string(rune(c)))
		q[c] = s[1 : len(s)-1]
		plain[c] = q[c] == string(rune(c))
	}
	return q, plain
}()

// appendQuote is strconv.AppendQuote, byte for byte (the normal form's
// hashes are of its output), made for the texts of a history: runs of
// plain ASCII are copied whole, other ASCII bytes written from a table of
// strconv's own escapes, printable runes beyond ASCII copied as they are,
// and only the rest (invalid bytes, runes strconv escapes) go through
// strconv one at a time. strconv quotes every rune on its own,
// whatever comes before or after it, so quoting in pieces writes the same
// bytes (FuzzAppendQuote holds it to strconv).
func appendQuote(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && s[i] < utf8.RuneSelf && plain[s[i]] {
			i++
		}
		dst = append(dst, s[start:i]...)
		if i == len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			dst = append(dst, asciiQuoted[c]...)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r != utf8.RuneError || n > 1) && strconv.IsPrint(r) {
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		// A rune beyond ASCII that strconv escapes (or an invalid byte):
		// quoted on its own, quotes dropped.
		at := len(dst)
		dst = strconv.AppendQuote(dst, s[i:i+n])
		dst = append(dst[:at], dst[at+1:len(dst)-1]...)
		i += n
	}
	return append(dst, '"')
}
