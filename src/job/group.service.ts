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

  /** Without force a group with jobs stays (409); with force its jobs go too. */
  async delete(name: string, force: boolean): Promise<void> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const group = await this.jobs.getGroup(name);
      if (!group) throw new GroupNotFoundError(name);
      const jobIds = (await this.jobs.listJobs())
        .filter(({ record }) => record.group === name)
        .map(({ record }) => record.id);
      if (jobIds.length > 0 && !force) throw new GroupNotEmptyError(name, jobIds.length);
      if ((await this.jobs.deleteGroupWithJobs(group, jobIds)) === 'ok') return;
      // A job joined the group meanwhile: look again.
    }
    throw new GroupBusyError(name);
  }
}
