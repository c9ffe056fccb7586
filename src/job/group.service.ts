import { Injectable } from '@nestjs/common';
import { GroupRecord } from '@forest/protocol';
import { CreateGroupDto, GroupDto, UpdateGroupDto } from './dto/group.dto';
import {
  GroupBusyError,
  GroupExistsError,
  GroupNotEmptyError,
  GroupNotFoundError,
} from './job.errors';
import { JobRepository } from './job.repository';

/** A write that races another change of the group re-reads and tries again this often. */
const WRITE_ATTEMPTS = 20;

/** Groups: the named worker pools jobs run on. */
@Injectable()
export class GroupService {
  constructor(private readonly jobs: JobRepository) {}

  async create(dto: CreateGroupDto): Promise<GroupDto> {
    const now = new Date().toISOString();
    const group: GroupRecord = {
      name: dto.name,
      remark: dto.remark ?? '',
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.jobs.createGroup(group))) throw new GroupExistsError(dto.name);
    return { ...group };
  }

  async list(): Promise<GroupDto[]> {
    return (await this.jobs.listGroups()).map((group) => ({ ...group }));
  }

  async get(name: string): Promise<GroupDto> {
    const group = await this.jobs.getGroup(name);
    if (!group) throw new GroupNotFoundError(name);
    return { ...group.record };
  }

  async update(name: string, dto: UpdateGroupDto): Promise<GroupDto> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const current = await this.jobs.getGroup(name);
      if (!current) throw new GroupNotFoundError(name);
      const next = { ...current.record, remark: dto.remark, updatedAt: new Date().toISOString() };
      if (await this.jobs.replaceGroup(current, next)) return { ...next };
    }
    throw new GroupBusyError(name);
  }

  /**
   * Without force a group with jobs stays (409); with force its jobs go too. The group's
   * delete marker is set before its jobs are listed, so no job joins it meanwhile (job
   * creates compare the marker absent; see JobRepository).
   */
  async delete(name: string, force: boolean): Promise<void> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const group = await this.jobs.getGroup(name);
      if (!group) throw new GroupNotFoundError(name);
      const claim = await this.jobs.claimGroupDelete(group);
      if (!claim) continue; // deleted and created again meanwhile: look again
      let jobIds: string[];
      try {
        jobIds = (await this.jobs.listJobs())
          .filter(({ record }) => record.group === name)
          .map(({ record }) => record.id);
      } catch (error) {
        await this.jobs.releaseGroupDelete(claim);
        throw error;
      }
      if (jobIds.length > 0 && !force) {
        await this.jobs.releaseGroupDelete(claim);
        throw new GroupNotEmptyError(name, jobIds.length);
      }
      if ((await this.jobs.deleteClaimedGroup(claim, jobIds)) === 'ok') return;
      // Another delete took the marker over, or it expired: look again.
    }
    throw new GroupBusyError(name);
  }
}
