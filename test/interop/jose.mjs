// Node.js side of test/suites/library_interop.sh for the asymmetric keys of
// user_mgmt 1.5: the `jose` package (on WebCrypto, not on our code),
// driven one operation per call.
//
//   node jose.mjs verify <jwks-json> <token>
//       verifies the token as a relying party that has only the JWK Set:
//       createLocalJWKSet picks the key by kid, and jwtVerify is pinned to
//       the algorithm of that key's JWK (never the token's own alg);
//       prints {"alg":..,"kid":..,"claims":{..}}, or exits 1 with the reason
//   node jose.mjs keypair <EdDSA|ES256>
//       a new key pair: prints {"pkcs8":<PEM>,"spki":<PEM>}
//   node jose.mjs sign <EdDSA|ES256> <pkcs8-pem> <kid> <claims-json>
//       a token SignJWT makes with that private key, header alg, typ, kid

import {
  createLocalJWKSet, decodeProtectedHeader, exportPKCS8, exportSPKI, generateKeyPair,
  importPKCS8, jwtVerify, SignJWT,
} from 'jose';

const [op, ...args] = process.argv.slice(2);

async function main() {
  switch (op) {
    case 'verify': {
      const [jwksJson, token] = args;
      const jwks = JSON.parse(jwksJson);
      const { kid } = decodeProtectedHeader(token);
      const matching = jwks.keys.filter((k) => k.kid === kid);
      if (matching.length !== 1) throw new Error(`the JWK Set has ${matching.length} keys with kid ${kid}`);
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks),
        { algorithms: [matching[0].alg] });
      return JSON.stringify({ alg: protectedHeader.alg, kid: protectedHeader.kid, claims: payload });
    }
    case 'keypair': {
      const { publicKey, privateKey } = await generateKeyPair(args[0], { extractable: true });
      return JSON.stringify({ pkcs8: await exportPKCS8(privateKey), spki: await exportSPKI(publicKey) });
    }
    case 'sign': {
      const [alg, pkcs8, kid, claims] = args;
      return new SignJWT(JSON.parse(claims))
        .setProtectedHeader({ alg, typ: 'JWT', kid })
        .sign(await importPKCS8(pkcs8, alg));
    }
    default:
      throw new Error('unknown operation ' + op);
  }
}

main().then((out) => process.stdout.write(out), (e) => {
  process.stderr.write(`${e.code || e.name}: ${e.message}`);
  process.exit(1);
});
