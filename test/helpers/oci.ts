import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const REF_NAME = 'org.opencontainers.image.ref.name';

type Descriptor = { mediaType: string; digest: string; size: number };
type Platform = { architecture: string; os: string; variant?: string };

/** One image written into an OCI layout. */
export type OciImage = {
  /** The name it was asked for; also its ref name inside the layout. */
  name: string;
  /** What skopeo copies from: `oci:<dir>:<name>`. */
  ref: string;
  /** Digest of the manifest (or of the index, for a multi-arch image): what a registry reports after the push. */
  digest: string;
  mediaType: string;
};

/** A multi-arch image: an OCI image index over one manifest per platform. Push it with `--all`. */
export type OciMultiArchImage = OciImage & { manifests: (Descriptor & { platform: Platform })[] };

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A single-file ustar archive: enough for a registry and skopeo, which never unpack it. */
const tar = (name: string, content: string) => {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\x0000', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512), Buffer.alloc(1024)]);
};

const LayoutIndex = z.object({
  schemaVersion: z.literal(2),
  manifests: z.array(z.looseObject({ annotations: z.record(z.string(), z.string()).optional() })),
});

/** Writes blobs into one OCI layout and keeps its `index.json` (ref name → descriptor) up to date. */
const openLayout = async (dir: string) => {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const indexFile = join(dir, 'index.json');
  const index = existsSync(indexFile)
    ? LayoutIndex.parse(JSON.parse(await readFile(indexFile, 'utf8')))
    : { schemaVersion: 2 as const, manifests: [] };

  const blob = async (data: Buffer, mediaType: string): Promise<Descriptor> => {
    const digest = sha256(data);
    await writeFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), data);
    return { mediaType, digest, size: data.length };
  };
  const layer = async (file: string, content: string) => {
    const raw = tar(file, content);
    // gzip output is deterministic here: Node writes mtime 0 and a fixed OS byte.
    return { desc: await blob(gzipSync(raw), OCI_LAYER), diffId: sha256(raw) };
  };
  const json = (value: unknown, mediaType: string) => blob(Buffer.from(JSON.stringify(value)), mediaType);

  const image = async (base: { desc: Descriptor; diffId: string }, unique: string, platform: Platform) => {
    const top = await layer('app/id.txt', `${unique}\n`);
    const config = await json(
      { ...platform, config: { Labels: { 'test.image': unique } }, rootfs: { type: 'layers', diff_ids: [base.diffId, top.diffId] } },
      OCI_CONFIG,
    );
    return json({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [base.desc, top.desc] }, OCI_MANIFEST);
  };

  const tagRef = (name: string, desc: Descriptor) => {
    index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== name);
    index.manifests.push({ ...desc, annotations: { [REF_NAME]: name } });
  };
  const save = () => writeFile(indexFile, JSON.stringify(index));
  return { blob, layer, json, image, tagRef, save };
};

/** skopeo's rule for a reference inside an OCI layout. */
const REF_NAME_RE = /^[A-Za-z0-9._-]+(?:[/+][A-Za-z0-9._-]+)*$/;
const checkName = (name: string) => {
  if (!REF_NAME_RE.test(name)) throw new Error(`"${name}" cannot name an image inside an OCI layout`);
};

/**
 * Writes one tiny OCI image per name into the OCI layout `dir` (created if missing; other refs already in it
 * are kept). Every image is a shared base layer plus one layer unique to `seed` and name, so the same seed and
 * name always give the same digest, and images of one call share a blob (cross-repository mounts).
 * Copy one with `skopeo copy <image.ref> docker://…`.
 */
export const writeOciImages = async (dir: string, names: string[], seed = 'test'): Promise<OciImage[]> => {
  names.forEach(checkName);
  const layout = await openLayout(dir);
  const base = await layout.layer('etc/base.txt', `base layer ${seed}\n`);
  const images: OciImage[] = [];
  for (const name of names) {
    const manifest = await layout.image(base, `image ${seed} ${name}`, { architecture: 'amd64', os: 'linux' });
    layout.tagRef(name, manifest);
    images.push({ name, ref: `oci:${dir}:${name}`, digest: manifest.digest, mediaType: manifest.mediaType });
  }
  await layout.save();
  return images;
};

/**
 * Writes a multi-arch image named `name` into the OCI layout `dir`: an OCI image index over a linux/amd64 and a
 * linux/arm64/v8 manifest, deterministic from `seed` like `writeOciImages`. Push it with `skopeo copy --all`.
 */
export const writeOciMultiArchImage = async (dir: string, name: string, seed = 'test'): Promise<OciMultiArchImage> => {
  checkName(name);
  const layout = await openLayout(dir);
  const base = await layout.layer('etc/base.txt', `base layer ${seed}\n`);
  const platforms: Platform[] = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux', variant: 'v8' },
  ];
  const manifests = [];
  for (const platform of platforms) {
    const unique = `image ${seed} ${name} ${platform.os}/${platform.architecture}`;
    manifests.push({ ...(await layout.image(base, unique, platform)), platform });
  }
  const index = await layout.json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }, OCI_INDEX);
  layout.tagRef(name, index);
  await layout.save();
  return { name, ref: `oci:${dir}:${name}`, digest: index.digest, mediaType: index.mediaType, manifests };
};
