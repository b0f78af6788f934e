// cli/image: `berth image …` (placeholder until the image layer lands).
export async function main(): Promise<number> {
  process.stderr.write('berth image: not implemented yet\n');
  return 1;
}
