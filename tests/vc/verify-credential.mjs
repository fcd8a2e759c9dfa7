// An independent check of a Dzong Verifiable Credential, written from the
// W3C specifications alone (Data Integrity EdDSA Cryptosuites v1.0,
// eddsa-jcs-2022; Bitstring Status List v1.0), with npm libraries for JCS
// (canonicalize), Ed25519 (@noble/curves) and base58 (@scure/base), so that
// the platform's own verifier is not the only judge of its proofs.
//
// node verify-credential.mjs <credential.json> <did.json> [<status-list.json>]
// prints {"verified": bool, "reason": "...", "revoked": bool|null}; exit 0.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import canonicalize from 'canonicalize';
import { ed25519 } from '@noble/curves/ed25519';
import { base58, base64urlnopad } from '@scure/base';

const sha256 = (text) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest();

function publicKeyOf(did, methodId) {
  if (!(did.assertionMethod || []).includes(methodId)) return [null, `${methodId} is not an assertion method of ${did.id}`];
  const method = (did.verificationMethod || []).find((m) => m.id === methodId);
  if (!method) return [null, `the DID document has no method ${methodId}`];
  if (method.type !== 'Multikey' || !method.publicKeyMultibase?.startsWith('z')) return [null, 'not a base58btc Multikey'];
  const bytes = base58.decode(method.publicKeyMultibase.slice(1));
  if (bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return [null, 'not an Ed25519 Multikey'];
  return [bytes.slice(2), ''];
}

/** Verify Proof (eddsa-jcs-2022): the options' hash, then the document's, signed with Ed25519. */
function verifyProof(secured, did) {
  const proof = secured.proof;
  if (!proof || proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') {
    return [false, 'no eddsa-jcs-2022 Data Integrity proof'];
  }
  const issuer = typeof secured.issuer === 'string' ? secured.issuer : secured.issuer?.id;
  if (issuer !== did.id || !proof.verificationMethod.startsWith(did.id + '#')) {
    return [false, `issued by ${issuer}, checked against ${did.id}`];
  }
  const unsecured = { ...secured };
  delete unsecured.proof;
  const options = { ...proof };
  delete options.proofValue;
  if (options['@context'] !== undefined) {
    const outer = secured['@context'] || [];
    if (!options['@context'].every((c, i) => outer[i] === c)) return [false, 'the proof @context does not lead the document'];
    unsecured['@context'] = options['@context'];
  }
  const [key, why] = publicKeyOf(did, proof.verificationMethod);
  if (!key) return [false, why];
  if (!proof.proofValue?.startsWith('z')) return [false, 'proofValue is not base58btc'];
  const signature = base58.decode(proof.proofValue.slice(1));
  const hashData = Buffer.concat([sha256(canonicalize(options)), sha256(canonicalize(unsecured))]);
  return ed25519.verify(signature, hashData, key) ? [true, 'the proof holds'] : [false, 'the signature does not hold'];
}

function revoked(credential, list, did) {
  const [ok, why] = verifyProof(list, did);
  if (!ok) throw new Error(`status list: ${why}`);
  const entry = credential.credentialStatus;
  if (entry.statusListCredential !== list.id) throw new Error('the status list is not the credential\'s');
  const encoded = list.credentialSubject.encodedList;
  const bits = gunzipSync(base64urlnopad.decode(encoded.slice(1)));
  const index = Number(entry.statusListIndex);
  return ((bits[Math.floor(index / 8)] >> (7 - (index % 8))) & 1) === 1;
}

const [credentialFile, didFile, listFile] = process.argv.slice(2);
const credential = JSON.parse(readFileSync(credentialFile, 'utf8'));
const did = JSON.parse(readFileSync(didFile, 'utf8'));
const [verified, reason] = verifyProof(credential, did);
const result = { verified, reason, revoked: null };
if (listFile) result.revoked = revoked(credential, JSON.parse(readFileSync(listFile, 'utf8')), did);
console.log(JSON.stringify(result));
