# A stand-in daemon whose listen backlog is full until told otherwise: it listens
# with backlog 0 and connects to itself until connect() fails with EAGAIN, prints
# "full", waits for the file GO to exist, then accepts every connection and greets
# each with a protocol-1 hello (uid-only), keeping them open until killed.
#   python3 backlog.py SOCKET GO
import json, os, socket, sys, time

path, go = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.chmod(path, 0o600)
srv.listen(0)
fillers = []
while True:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect(path)
        fillers.append(c)
    except BlockingIOError:  # EAGAIN: the queue is full
        c.close()
        break
print("full", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
hello = json.dumps({"keyrack": 1, "pid": os.getpid(), "session": None, "mode": "uid-only", "gen": "backlog"}) + "\n"
conns = []
while True:
    conn, _ = srv.accept()
    conn.sendall(hello.encode())
    conns.append(conn)
