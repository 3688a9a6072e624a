/* The worker program's parts (isolation/worker/). The program links
 * libbridgert.so like any host and uses only the public ABI, plus the
 * isolation sources compiled into it (the wire codec and the sandbox). */
#ifndef BRT_ISOLATION_WORKER_H
#define BRT_ISOLATION_WORKER_H

/* `bridgert-worker serve ...`: loads one plugin and serves its calls over
 * the socket the host gave it (serve.c). Returns the exit status. */
int worker_serve_main(int argc, char **argv);
/* `bridgert-exec ...`: runs one external program, optionally in the
 * sandbox (exec.c). Returns only on failure, with the exit status. */
int worker_exec_main(int argc, char **argv);

#endif /* BRT_ISOLATION_WORKER_H */
