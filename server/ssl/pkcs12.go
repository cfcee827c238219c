package ssl

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// PKCS#12 (RFC 7292), as Java's keytool (PBES2/AES-256 and an
// HMAC-SHA-256 MAC since Java 12; RC2 and 3DES before) and OpenSSL
// (likewise for 3.x and 1.x) write it: DER, password integrity (a MAC),
// bags of keys (plain or shrouded) and certificates, in plain or
// password-encrypted safe contents. Public-key integrity and privacy
// modes are not read.

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}

	oidKeyBag             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidSafeContentsBag    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidX509Certificate    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidLocalKeyID         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidSHA1               = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidPKCS12PasswordMode = oidData
)

type pfx struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

func readPKCS12(data []byte, password string, trust bool) (*storeContents, error) {
	var p pfx
	rest, err := asn1.Unmarshal(data, &p)
	if err != nil {
		return nil, fmt.Errorf("not a DER PKCS#12 file: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("trailing data after the PKCS#12 structure")
	}
	if p.Version != 3 {
		return nil, fmt.Errorf("PKCS#12 version %d is not supported", p.Version)
	}
	if !p.AuthSafe.ContentType.Equal(oidPKCS12PasswordMode) {
		return nil, errors.New("only password-integrity PKCS#12 files are supported (public-key integrity is not)")
	}
	authSafe, err := octets(p.AuthSafe.Content)
	if err != nil {
		return nil, fmt.Errorf("authSafe: %w", err)
	}
	if len(p.MacData.Mac.Digest) > 0 && password != "" {
		if err := checkMAC(p.MacData, password, authSafe); err != nil {
			return nil, err
		}
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
		return nil, fmt.Errorf("authenticated safe: %w", err)
	}
	c := &storeContents{}
	type keyWithID struct {
		key any
		id  []byte
	}
	var keys []keyWithID
	certIDs := map[*x509.Certificate][]byte{}
	var walk func(bags []safeBag, depth int) error
	walk = func(bags []safeBag, depth int) error {
		for _, b := range bags {
			id := localKeyID(b.Attributes)
			switch {
			case trust && (b.ID.Equal(oidKeyBag) || b.ID.Equal(oidShroudedKeyBag)):
				// A trust store's keys are not needed.
			case b.ID.Equal(oidKeyBag):
				k, err := parsePrivateKey(b.Value.Bytes)
				if err != nil {
					return err
				}
				keys = append(keys, keyWithID{k, id})
			case b.ID.Equal(oidShroudedKeyBag):
				if password == "" {
					return errors.New("the private key is encrypted but no key store password is set")
				}
				plain, err := decryptPKCS8(b.Value.Bytes, password)
				if err != nil {
					return fmt.Errorf("decrypting a private key: %w", err)
				}
				k, err := parsePrivateKey(plain)
				if err != nil {
					return err
				}
				keys = append(keys, keyWithID{k, id})
			case b.ID.Equal(oidCertBag):
				var cb certBag
				if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
					return fmt.Errorf("certificate bag: %w", err)
				}
				if !cb.ID.Equal(oidX509Certificate) {
					continue // SDSI certificates and the like
				}
				cert, err := parseCertificate(cb.Data)
				if err != nil {
					return fmt.Errorf("certificate: %w", err)
				}
				c.certs = append(c.certs, cert)
				certIDs[cert] = id
			case b.ID.Equal(oidSafeContentsBag) && depth < 4:
				var inner []safeBag
				if _, err := asn1.Unmarshal(b.Value.Bytes, &inner); err != nil {
					return fmt.Errorf("nested safe contents: %w", err)
				}
				if err := walk(inner, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, ci := range infos {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if contents, err = octets(ci.Content); err != nil {
				return nil, fmt.Errorf("safe contents: %w", err)
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, fmt.Errorf("encrypted safe contents: %w", err)
			}
			enc := ed.EncryptedContentInfo.EncryptedContent
			if enc.IsCompound {
				if enc.Bytes, err = joinOctets(enc.Bytes); err != nil {
					return nil, fmt.Errorf("encrypted safe contents: %w", err)
				}
			}
			if password == "" {
				// Java reads no encrypted bag without a password either.
				continue
			}
			if contents, err = decryptPBE(ed.EncryptedContentInfo.ContentEncryptionAlgorithm, enc.Bytes, password); err != nil {
				return nil, fmt.Errorf("decrypting safe contents: %w", err)
			}
		default:
			return nil, fmt.Errorf("safe contents of type %s (public-key privacy) are not supported", ci.ContentType)
		}
		var bags []safeBag
		if _, err := asn1.Unmarshal(contents, &bags); err != nil {
			if ci.ContentType.Equal(oidEncryptedData) {
				return nil, errWrongPassword
			}
			return nil, fmt.Errorf("safe contents: %w", err)
		}
		if err := walk(bags, 0); err != nil {
			return nil, err
		}
	}
	// Pair each key with its certificate by localKeyId; orderChain finds
	// the rest of the chain.
	for _, k := range keys {
		e := keyEntry{key: k.key}
		for _, cert := range c.certs {
			if len(k.id) > 0 && bytes.Equal(certIDs[cert], k.id) {
				e.chain = []*x509.Certificate{cert}
				break
			}
		}
		if len(e.chain) == 1 {
			e.chain = append(e.chain, c.certs...)
		}
		c.keys = append(c.keys, e)
	}
	return c, nil
}

func checkMAC(m macData, password string, data []byte) error {
	var h func() hash.Hash
	switch alg := m.Mac.Algorithm.Algorithm; {
	case alg.Equal(oidSHA1):
		h = sha1.New
	case alg.Equal(oidSHA224):
		h = sha256.New224
	case alg.Equal(oidSHA256):
		h = sha256.New
	case alg.Equal(oidSHA384):
		h = sha512.New384
	case alg.Equal(oidSHA512):
		h = sha512.New
	default:
		return fmt.Errorf("PKCS#12 MAC algorithm %s is not supported (SHA-1 and SHA-2 are)", alg)
	}
	if m.Iterations < 1 || m.Iterations > 10_000_000 {
		return fmt.Errorf("PKCS#12 MAC iteration count %d is out of range", m.Iterations)
	}
	if !hmac.Equal(pkcs12MAC(h, password, m.MacSalt, m.Iterations, data), m.Mac.Digest) {
		return errors.New("keystore password was incorrect (the PKCS#12 integrity check failed)")
	}
	return nil
}

func localKeyID(attrs []pkcs12Attribute) []byte {
	for _, a := range attrs {
		if a.ID.Equal(oidLocalKeyID) {
			var id []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &id); err == nil {
				return id
			}
		}
	}
	return nil
}

// octets reads the OCTET STRING a ContentInfo of type data carries
// (primitive, or constructed of primitive pieces).
func octets(v asn1.RawValue) ([]byte, error) {
	var inner asn1.RawValue
	if _, err := asn1.Unmarshal(v.Bytes, &inner); err != nil {
		return nil, err
	}
	if inner.Class != asn1.ClassUniversal || inner.Tag != asn1.TagOctetString {
		return nil, errors.New("expected an OCTET STRING")
	}
	if inner.IsCompound {
		return joinOctets(inner.Bytes)
	}
	return inner.Bytes, nil
}

func joinOctets(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		var part asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &part); err != nil {
			return nil, err
		}
		out = append(out, part.Bytes...)
	}
	return out, nil
}
