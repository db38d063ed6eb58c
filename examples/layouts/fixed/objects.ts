/*
 * What the object-placing layouts (crush, ring) share: cutting a request into objects of
 * `objectSize` bytes, each placed whole on `replicas` devices at its file offset.
 */
export function placeObjects(
  offset: number, length: number, objectSize: number, replicas: number,
  place: (object: number) => readonly number[],
): number[][] {
  const lists: number[][] = Array.from({ length: replicas }, () => []);
  const stop = offset + length;
  for (let pos = offset; pos < stop;) {
    const object = Math.floor(pos / objectSize);
    const len = Math.min((object + 1) * objectSize - pos, stop - pos);
    const devices = place(object);
    for (let r = 0; r < replicas; r++) lists[r]!.push(devices[r]!, pos, len);
    pos += len;
  }
  return lists;
}
