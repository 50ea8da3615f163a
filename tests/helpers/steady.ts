// Waits (bounded) until a count stops moving for 300 ms, as a server's
// writes do once the socket buffers between it and a paused client are full;
// a slow or busy machine only takes longer to get there. Returns the count.
export async function steady(count: () => number, rounds = 40): Promise<number> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let last = count();
  for (let i = 0; i < rounds; i++) {
    await sleep(300);
    if (count() === last) return last;
    last = count();
  }
  return last;
}
