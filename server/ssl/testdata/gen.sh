#!/bin/sh
# Regenerates the key and trust stores the ssl tests read, with the tools
# operators use: Java 17's keytool and OpenSSL 3. Run from this directory.
# Every store's password is "changeit"; certificates are valid for 100 years.
set -e
rm -f *.jks *.p12 *.pem *.der
PW=changeit
# A CA, and a server key pair signed by it (keytool, JKS).
keytool -genkeypair -alias ca -keyalg EC -groupname secp256r1 -dname "CN=Test CA,O=zkit" -ext bc:c \
  -validity 36500 -keystore ca.jks -storetype JKS -storepass $PW -keypass $PW >/dev/null 2>&1
keytool -exportcert -rfc -alias ca -keystore ca.jks -storepass $PW 2>/dev/null > ca.pem
keytool -genkeypair -alias server -keyalg RSA -keysize 2048 -dname "CN=server,OU=zk,O=zkit" \
  -ext san=ip:127.0.0.1,dns:localhost -validity 36500 -keystore server.jks -storetype JKS -storepass $PW -keypass $PW >/dev/null 2>&1
keytool -certreq -alias server -keystore server.jks -storepass $PW 2>/dev/null \
  | keytool -gencert -alias ca -keystore ca.jks -storepass $PW -ext san=ip:127.0.0.1,dns:localhost -ext eku=serverAuth,clientAuth -validity 36500 -rfc 2>/dev/null > server-signed.pem
keytool -importcert -noprompt -alias ca -file ca.pem -keystore server.jks -storepass $PW 2>/dev/null
keytool -importcert -noprompt -alias server -file server-signed.pem -keystore server.jks -storepass $PW 2>/dev/null
rm server-signed.pem
# Trust stores holding the CA.
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.jks -storetype JKS -storepass $PW 2>/dev/null
keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass $PW 2>/dev/null
# The server's key store as PKCS#12: Java 17's defaults (PBES2 AES-256, HMAC-SHA256) ...
keytool -importkeystore -srckeystore server.jks -srcstorepass $PW -destkeystore server.p12 -deststoretype PKCS12 -deststorepass $PW 2>/dev/null
# ... and Java 8's (RC2-40 certificates, 3DES key, HMAC-SHA1).
keytool -J-Dkeystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_40 \
  -J-Dkeystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndDESede -J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA1 \
  -importkeystore -srckeystore server.jks -srcstorepass $PW -destkeystore server-legacy.p12 -deststoretype PKCS12 -deststorepass $PW 2>/dev/null
# PEM: the key (unencrypted PKCS#8, and encrypted three ways) with its chain.
# Leaf first: PemReader takes the file's order as the chain.
openssl pkcs12 -in server.p12 -passin pass:$PW -nokeys -clcerts 2>/dev/null | sed -n '/BEGIN/,/END/p' > chain.pem
openssl pkcs12 -in server.p12 -passin pass:$PW -nokeys -cacerts 2>/dev/null | sed -n '/BEGIN/,/END/p' >> chain.pem
openssl pkcs12 -in server.p12 -passin pass:$PW -nocerts -nodes 2>/dev/null | openssl pkcs8 -topk8 -nocrypt > key.pem
cat key.pem chain.pem > server.pem
openssl pkcs8 -topk8 -in key.pem -v2 aes-256-cbc -passout pass:$PW > enc.pem && cat enc.pem chain.pem > server-aes.pem
openssl pkcs8 -topk8 -in key.pem -v2 des3 -v2prf hmacWithSHA1 -passout pass:$PW > enc.pem && cat enc.pem chain.pem > server-des3.pem
openssl pkcs8 -topk8 -in key.pem -v1 PBE-SHA1-3DES -passout pass:$PW > enc.pem && cat enc.pem chain.pem > server-pbe-sha1-3des.pem
openssl rsa -in key.pem -traditional 2>/dev/null > rsa.pem && cat rsa.pem chain.pem > server-pkcs1.pem
rm enc.pem rsa.pem key.pem chain.pem
# OpenSSL's own PKCS#12: 3.x defaults, and the old 3DES one.
openssl pkcs12 -export -in server.pem -inkey server.pem -passout pass:$PW -out openssl.p12
openssl pkcs12 -export -in server.pem -inkey server.pem -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 -passout pass:$PW -out openssl-3des.p12
rm ca.jks
