#!/usr/bin/env python3
"""seed_rstream.py - writes seed inputs for fuzz_rstream: XREADGROUP replies
as redis-server sends them (raw RESP bytes), captured from a private
redis-server on a free loopback port, with records from
../shared/samples/aws-cpl. Usage: tests/fuzz/seed_rstream.py OUTDIR (run from
the repository root). Writes seed-two-records (new entries), seed-pending-
deleted (a pending read with a deleted entry: nil fields), seed-fields (an
only field of another name; "record" among other fields), seed-empty (a
BLOCK that timed out: nil) and seed-no-pending (an empty pending list)."""
import json, socket, subprocess, time, os, sys
if len(sys.argv) != 2:
    sys.exit('usage: seed_rstream.py OUTDIR')
out = sys.argv[1]
s0 = socket.socket(); s0.bind(('127.0.0.1', 0)); port = s0.getsockname()[1]; s0.close()
srv = subprocess.Popen(['redis-server', '--port', str(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], stdout=subprocess.DEVNULL)
try:
    for _ in range(50):
        try:
            c = socket.create_connection(('127.0.0.1', port)); break
        except OSError:
            time.sleep(0.1)
    def cmd(*args):
        b = b'*%d\r\n' % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            b += b'$%d\r\n%s\r\n' % (len(a), a)
        c.sendall(b)
        time.sleep(0.05)
        c.settimeout(0.5)
        data = b''
        try:
            while True:
                d = c.recv(1 << 20)
                if not d: break
                data += d
        except socket.timeout:
            pass
        return data
    recs = json.load(open('../shared/samples/aws-cpl/SerializerTestFile.json'))['Records']
    various = json.load(open('../shared/samples/aws-cpl/SerializerVariousUserIdentityTestFile.json'))['Records']
    cmd('XGROUP', 'CREATE', 'trail', 'trailsight', '0', 'MKSTREAM')
    for r in recs[:2]:
        cmd('XADD', 'trail', '*', 'record', json.dumps(r, separators=(',', ':')))
    open(os.path.join(out, 'seed-two-records'), 'wb').write(cmd('XREADGROUP', 'GROUP', 'trailsight', 'host', 'COUNT', '1000', 'STREAMS', 'trail', '>'))
    # pending read of the same entries, one deleted since
    ids = cmd('XRANGE', 'trail', '-', '+')
    first = ids.split(b'\r\n')[3]
    cmd('XDEL', 'trail', first)
    open(os.path.join(out, 'seed-pending-deleted'), 'wb').write(cmd('XREADGROUP', 'GROUP', 'trailsight', 'host', 'COUNT', '1000', 'STREAMS', 'trail', '0'))
    # an only field with another name, and a record among other fields
    cmd('XADD', 'trail', '*', 'event', json.dumps(various[0], separators=(',', ':')))
    cmd('XADD', 'trail', '*', 'source', 'shipper', 'record', json.dumps(recs[2], separators=(',', ':')), 'n', '1')
    open(os.path.join(out, 'seed-fields'), 'wb').write(cmd('XREADGROUP', 'GROUP', 'trailsight', 'host', 'COUNT', '1000', 'STREAMS', 'trail', '>'))
    # nothing new: a nil reply
    open(os.path.join(out, 'seed-empty'), 'wb').write(cmd('XREADGROUP', 'GROUP', 'trailsight', 'host', 'COUNT', '1000', 'BLOCK', '10', 'STREAMS', 'trail', '>'))
    # nothing pending for another consumer: an empty list
    open(os.path.join(out, 'seed-no-pending'), 'wb').write(cmd('XREADGROUP', 'GROUP', 'trailsight', 'other', 'COUNT', '1000', 'STREAMS', 'trail', '0'))
finally:
    srv.terminate(); srv.wait()
