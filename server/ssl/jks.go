package ssl

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// JKS, Java's original key store format (the default of keytool up to
// Java 8): big-endian records, private keys protected by Sun's
// SHA-1-based KeyProtector, and a SHA-1 integrity digest keyed by the
// password. JCEKS (0xCECECECE) is not read; Apache does not accept it
// either.

const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

var oidSunKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

type jksReader struct {
	b   []byte
	err error
}

func (r *jksReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errors.New("truncated JKS file")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *jksReader) u16() int {
	b := r.next(2)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

func (r *jksReader) u32() uint32 {
	b := r.next(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (r *jksReader) utf() string { return string(r.next(r.u16())) }

func (r *jksReader) cert(version uint32) *x509.Certificate {
	if version == 2 {
		if typ := r.utf(); r.err == nil && typ != "X.509" {
			r.err = fmt.Errorf("certificate of type %q is not supported", typ)
			return nil
		}
	}
	der := r.next(int(r.u32()))
	if r.err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		r.err = fmt.Errorf("certificate: %w", err)
		return nil
	}
	return c
}

func readJKS(data []byte, password string, trust bool) (*storeContents, error) {
	if len(data) >= 4 && binary.BigEndian.Uint32(data) == jceksMagic {
		return nil, fmt.Errorf("this is a JCEKS store, which neither Apache ZooKeeper nor zkit reads; zkit reads %s", SupportedTypes)
	}
	if len(data) < 12+sha1.Size || binary.BigEndian.Uint32(data) != jksMagic {
		return nil, errors.New("not a JKS key store (bad magic number)")
	}
	body, digest := data[:len(data)-sha1.Size], data[len(data)-sha1.Size:]
	pw := utf16Bytes(password)
	if password != "" {
		// Java skips the check when the store is opened without a password.
		h := sha1.New()
		h.Write(pw)
		h.Write([]byte("Mighty Aphrodite"))
		h.Write(body)
		if subtle.ConstantTimeCompare(h.Sum(nil), digest) != 1 {
			return nil, errors.New("keystore was tampered with, or password was incorrect")
		}
	}
	r := &jksReader{b: body[4:]}
	version := r.u32()
	if version != 1 && version != 2 {
		return nil, fmt.Errorf("JKS version %d is not supported", version)
	}
	n := r.u32()
	c := &storeContents{}
	for i := uint32(0); i < n && r.err == nil; i++ {
		tag := r.u32()
		r.utf()   // alias
		r.next(8) // creation date
		switch tag {
		case 1: // private key entry
			protected := r.next(int(r.u32()))
			count := r.u32()
			var chain []*x509.Certificate
			for j := uint32(0); j < count && r.err == nil; j++ {
				if cert := r.cert(version); cert != nil {
					chain = append(chain, cert)
				}
			}
			if r.err != nil || trust {
				break // a trust store takes only trusted-certificate entries
			}
			if password == "" {
				return nil, errors.New("the key store holds a private key but no key store password is set")
			}
			der, err := jksRecoverKey(protected, pw)
			if err != nil {
				return nil, err
			}
			key, err := parsePrivateKey(der)
			if err != nil {
				return nil, err
			}
			c.keys = append(c.keys, keyEntry{key: key, chain: chain})
			c.certs = append(c.certs, chain...)
		case 2: // trusted certificate entry
			if cert := r.cert(version); cert != nil {
				c.certs = append(c.certs, cert)
			}
		case 3:
			return nil, errors.New("JKS secret-key entries are not supported")
		default:
			return nil, fmt.Errorf("unknown JKS entry tag %d", tag)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return c, nil
}

// jksRecoverKey undoes Sun's KeyProtector: salt(20) | key XOR keystream |
// SHA-1(password | key), the keystream being SHA-1(password | previous)
// blocks started from the salt.
func jksRecoverKey(epki []byte, pw []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(epki, &info); err != nil {
		return nil, errors.New("malformed protected private key")
	}
	if !info.Algorithm.Algorithm.Equal(oidSunKeyProtector) {
		return nil, fmt.Errorf("private key protection %s is not supported (Sun's JKS key protector is)", info.Algorithm.Algorithm)
	}
	p := info.Data
	if len(p) < 2*sha1.Size {
		return nil, errors.New("malformed protected private key")
	}
	salt, enc, check := p[:sha1.Size], p[sha1.Size:len(p)-sha1.Size], p[len(p)-sha1.Size:]
	key := make([]byte, len(enc))
	digest := append([]byte(nil), salt...)
	for off := 0; off < len(enc); off += sha1.Size {
		h := sha1.New()
		h.Write(pw)
		h.Write(digest)
		digest = h.Sum(nil)
		for i := 0; i < sha1.Size && off+i < len(enc); i++ {
			key[off+i] = enc[off+i] ^ digest[i]
		}
	}
	h := sha1.New()
	h.Write(pw)
	h.Write(key)
	if !bytes.Equal(h.Sum(nil), check) {
		return nil, errors.New("cannot recover the private key: the key password differs from the store password, or the password is wrong")
	}
	return key, nil
}

func utf16Bytes(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i], out[2*i+1] = byte(c>>8), byte(c)
	}
	return out
}
