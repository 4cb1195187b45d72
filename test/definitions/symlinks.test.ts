import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPipelineFiles } from '../../src/definitions/load.js';

describe('findPipelineFiles', () => {
  it('reads a Kubernetes ConfigMap volume: files are links into its hidden ..data folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'configmap-'));
    const data = path.join(dir, '..2026_12_03_10_00_00.123');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'platform.yaml'), 'assets: []\n');
    fs.writeFileSync(path.join(data, 'notes.txt'), 'x\n');
    fs.symlinkSync(path.basename(data), path.join(dir, '..data'));
    fs.symlinkSync('..data/platform.yaml', path.join(dir, 'platform.yaml'));
    fs.symlinkSync('..data/notes.txt', path.join(dir, 'notes.txt'));
    fs.symlinkSync('nowhere.yaml', path.join(dir, 'dangling.yaml'));
    expect(findPipelineFiles(dir)).toEqual([path.join(dir, 'platform.yaml')]);
  });

  it('follows a linked directory once, even when links make a loop', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'links-'));
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-'));
    fs.writeFileSync(path.join(shared, 'a.yml'), 'assets: []\n');
    fs.symlinkSync(shared, path.join(dir, 'sources'));
    fs.symlinkSync(dir, path.join(shared, 'back'));
    expect(findPipelineFiles(dir)).toEqual([path.join(dir, 'sources', 'a.yml')]);
  });
});
