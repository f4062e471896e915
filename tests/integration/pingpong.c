// pingpong THREADS ROUNDS: pairs of threads hand a token back and forth
// with a mutex and condition variables; prints the total hand-offs.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct pair {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int turn;  // 0 or 1: whose move
  int rounds;
  long moves;
};

struct player {
  struct pair* pair;
  int me;
};

static void* play(void* arg) {
  struct player* p = arg;
  struct pair* g = p->pair;
  for (int i = 0; i < g->rounds; ++i) {
    pthread_mutex_lock(&g->mu);
    while (g->turn != p->me) pthread_cond_wait(&g->cv, &g->mu);
    g->turn = 1 - p->me;
    g->moves++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 16;
  int rounds = argc > 2 ? atoi(argv[2]) : 1000;
  int pairs = threads / 2;
  struct pair* g = calloc(pairs, sizeof(*g));
  struct player* p = calloc(threads, sizeof(*p));
  pthread_t* t = calloc(threads, sizeof(*t));
  for (int i = 0; i < pairs; ++i) {
    pthread_mutex_init(&g[i].mu, NULL);
    pthread_cond_init(&g[i].cv, NULL);
    g[i].rounds = rounds;
  }
  for (int i = 0; i < threads; ++i) {
    p[i] = (struct player){&g[i / 2], i % 2};
    if (pthread_create(&t[i], NULL, play, &p[i]) != 0) return 2;
  }
  long total = 0;
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < pairs; ++i) total += g[i].moves;
  printf("%ld\n", total);
  return 0;
}
