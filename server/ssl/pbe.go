package ssl

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// Password-based encryption of private keys (PKCS#8
// EncryptedPrivateKeyInfo) and of PKCS#12 contents: PBES2 (PBKDF2 with
// HMAC-SHA1/SHA-2, AES-CBC or 3DES-CBC), and PKCS#12's own PBE schemes
// (SHA-1 with 3DES, RC2 or RC4).

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}

	// PKCS#12 PBE (RFC 7292 appendix C).
	oidPBEWithSHAAnd128BitRC4        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBEWithSHAAnd40BitRC4         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}
	oidPBEWithSHAAnd3KeyTripleDESCBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHAAnd2KeyTripleDESCBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHAAnd128BitRC2CBC     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHAAnd40BitRC2CBC      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
)

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type pkcs12PBEParams struct {
	Salt       []byte
	Iterations int
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo to its PKCS#8 key.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		return nil, errors.New("malformed EncryptedPrivateKeyInfo")
	}
	return decryptPBE(info.Algorithm, info.Data, password)
}

// decryptPBE decrypts data encrypted under a password-based scheme.
func decryptPBE(alg pkix.AlgorithmIdentifier, data []byte, password string) ([]byte, error) {
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		return decryptPBES2(alg.Parameters.FullBytes, data, password)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd3KeyTripleDESCBC):
		return pkcs12Decrypt(alg, data, password, 24, 8, func(k []byte) (cipher.Block, error) { return des.NewTripleDESCipher(k) })
	case alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTripleDESCBC):
		return pkcs12Decrypt(alg, data, password, 16, 8, func(k []byte) (cipher.Block, error) {
			return des.NewTripleDESCipher(append(append([]byte(nil), k...), k[:8]...))
		})
	case alg.Algorithm.Equal(oidPBEWithSHAAnd40BitRC2CBC):
		return pkcs12Decrypt(alg, data, password, 5, 8, func(k []byte) (cipher.Block, error) { return newRC2(k, 40), nil })
	case alg.Algorithm.Equal(oidPBEWithSHAAnd128BitRC2CBC):
		return pkcs12Decrypt(alg, data, password, 16, 8, func(k []byte) (cipher.Block, error) { return newRC2(k, 128), nil })
	case alg.Algorithm.Equal(oidPBEWithSHAAnd128BitRC4), alg.Algorithm.Equal(oidPBEWithSHAAnd40BitRC4):
		n := 16
		if alg.Algorithm.Equal(oidPBEWithSHAAnd40BitRC4) {
			n = 5
		}
		var p pkcs12PBEParams
		if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
			return nil, errors.New("malformed PKCS#12 PBE parameters")
		}
		key := pkcs12KDF(sha1.New, bmpPassword(password), p.Salt, 1, p.Iterations, n)
		c, err := rc4.NewCipher(key)
		if err != nil {
			return nil, err
		}
		out := make([]byte, len(data))
		c.XORKeyStream(out, data)
		return out, nil
	}
	return nil, fmt.Errorf("encryption algorithm %s is not supported (zkit reads PBES2 with PBKDF2 and AES or 3DES, and PKCS#12 PBE with 3DES, RC2 or RC4)", alg.Algorithm)
}

func decryptPBES2(params, data []byte, password string) ([]byte, error) {
	var p pbes2Params
	if _, err := asn1.Unmarshal(params, &p); err != nil {
		return nil, errors.New("malformed PBES2 parameters")
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("PBES2 key derivation %s is not supported (PBKDF2 is)", p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, errors.New("malformed PBKDF2 parameters")
	}
	prf := sha1.New
	switch alg := kp.PRF.Algorithm; {
	case len(alg) == 0, alg.Equal(oidHMACSHA1):
	case alg.Equal(oidHMACSHA224):
		prf = sha256.New224
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA384):
		prf = sha512.New384
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 pseudo-random function %s is not supported", alg)
	}
	var keyLen int
	var newCipher func([]byte) (cipher.Block, error)
	switch s := p.Scheme.Algorithm; {
	case s.Equal(oidAES128CBC):
		keyLen, newCipher = 16, aes.NewCipher
	case s.Equal(oidAES192CBC):
		keyLen, newCipher = 24, aes.NewCipher
	case s.Equal(oidAES256CBC):
		keyLen, newCipher = 32, aes.NewCipher
	case s.Equal(oidDESEDE3CBC):
		keyLen, newCipher = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("PBES2 cipher %s is not supported (AES-CBC and DES-EDE3-CBC are)", s)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, errors.New("malformed PBES2 cipher parameters")
	}
	if kp.Iterations < 1 || kp.Iterations > 10_000_000 {
		return nil, fmt.Errorf("PBKDF2 iteration count %d is out of range", kp.Iterations)
	}
	key, err := pbkdf2.Key(prf, password, kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	return cbcDecrypt(block, iv, data)
}

// pkcs12Decrypt is PKCS#12 PBE: key (ID 1) and IV (ID 2) derived with
// SHA-1 from the BMPString password.
func pkcs12Decrypt(alg pkix.AlgorithmIdentifier, data []byte, password string, keyLen, ivLen int, newCipher func([]byte) (cipher.Block, error)) ([]byte, error) {
	var p pkcs12PBEParams
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
		return nil, errors.New("malformed PKCS#12 PBE parameters")
	}
	if p.Iterations < 1 || p.Iterations > 10_000_000 {
		return nil, fmt.Errorf("PBE iteration count %d is out of range", p.Iterations)
	}
	pw := bmpPassword(password)
	key := pkcs12KDF(sha1.New, pw, p.Salt, 1, p.Iterations, keyLen)
	iv := pkcs12KDF(sha1.New, pw, p.Salt, 2, p.Iterations, ivLen)
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	return cbcDecrypt(block, iv, data)
}

func cbcDecrypt(block cipher.Block, iv, data []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, errors.New("bad IV length")
	}
	if len(data) == 0 || len(data)%bs != 0 {
		return nil, errors.New("encrypted data is not a whole number of blocks")
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	n := int(out[len(out)-1])
	if n == 0 || n > bs || n > len(out) {
		return nil, errWrongPassword
	}
	for _, b := range out[len(out)-n:] {
		if int(b) != n {
			return nil, errWrongPassword
		}
	}
	return out[:len(out)-n], nil
}

var errWrongPassword = errors.New("decryption failed: wrong password?")

// bmpPassword is a password as PKCS#12 hashes it: UTF-16BE with a
// two-byte terminator (an empty password is the terminator alone).
func bmpPassword(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2.
func pkcs12KDF(h func() hash.Hash, password, salt []byte, id byte, iterations, n int) []byte {
	hh := h()
	u, v := hh.Size(), hh.BlockSize()
	fill := func(src []byte) []byte {
		if len(src) == 0 {
			return nil
		}
		out := make([]byte, v*((len(src)+v-1)/v))
		for i := range out {
			out[i] = src[i%len(src)]
		}
		return out
	}
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	I := append(fill(salt), fill(password)...)
	var out []byte
	for len(out) < n {
		hh.Reset()
		hh.Write(D)
		hh.Write(I)
		A := hh.Sum(nil)
		for j := 1; j < iterations; j++ {
			hh.Reset()
			hh.Write(A)
			A = hh.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= n {
			break
		}
		B := make([]byte, v)
		for i := range B {
			B[i] = A[i%u]
		}
		// I_j = (I_j + B + 1) mod 2^(8v), for each v-byte block.
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(I[j+k]) + int(B[k]) + carry
				I[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:n]
}

// pkcs12MAC computes the HMAC of a PKCS#12 file's contents with a key
// derived by the PKCS#12 KDF (ID 3) under the MAC's digest.
func pkcs12MAC(h func() hash.Hash, password string, salt []byte, iterations int, data []byte) []byte {
	key := pkcs12KDF(h, bmpPassword(password), salt, 3, iterations, h().Size())
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(nil)
}
