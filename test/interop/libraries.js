// Node.js side of test/suites/library_interop.sh: bcryptjs and jsonwebtoken,
// driven one operation per call so the shell suite can pass values between
// them and PostgreSQL.
//
//   node libraries.js hash <password> <cost>        prints a bcrypt hash
//   node libraries.js check <password> <hash>       prints true or false
//   node libraries.js sign <secret-hex> <kid> <claims-json> [alg]
//   node libraries.js verify <secret-hex> <token>   prints the claims, or
//                                                   exits 1 with the reason
'use strict';

const bcrypt = require('bcryptjs');
const jwt = require('jsonwebtoken');

const [op, ...args] = process.argv.slice(2);

switch (op) {
  case 'hash':
    process.stdout.write(bcrypt.hashSync(args[0], bcrypt.genSaltSync(Number(args[1]))));
    break;
  case 'check':
    process.stdout.write(String(bcrypt.compareSync(args[0], args[1])));
    break;
  case 'sign': {
    const [secretHex, kid, claims, alg = 'HS256'] = args;
    process.stdout.write(jwt.sign(JSON.parse(claims), Buffer.from(secretHex, 'hex'),
      { algorithm: alg, keyid: kid, noTimestamp: true }));
    break;
  }
  case 'verify':
    try {
      const claims = jwt.verify(args[1], Buffer.from(args[0], 'hex'), { algorithms: ['HS256'] });
      process.stdout.write(JSON.stringify(claims));
    } catch (e) {
      process.stderr.write(e.message);
      process.exit(1);
    }
    break;
  default:
    process.stderr.write('unknown operation ' + op);
    process.exit(2);
}
