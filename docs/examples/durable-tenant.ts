// tenant.strategy.ts: durable providers shared by the connections of one tenant
import { ContextIdFactory, type ContextId, type ContextIdStrategy, type HostComponentInfo } from '@nestjs/core';
import { WS_CONNECTION_CONTEXT, type WsConnectionContext } from '@tracing-ws/nestjs';
import { ClsServiceManager } from 'nestjs-cls';

const tenants = new Map<string, ContextId>();

export class TenantContextIdStrategy implements ContextIdStrategy {
  attach(contextId: ContextId) {
    // Called once per connection, inside its context: the user is what `authenticate` returned.
    const connection = ClsServiceManager.getClsService().get<WsConnectionContext | undefined>(WS_CONNECTION_CONTEXT);
    const tenant = (connection?.user as { tenant?: string } | undefined)?.tenant ?? 'none';
    let tenantId = tenants.get(tenant);
    if (!tenantId) tenants.set(tenant, (tenantId = ContextIdFactory.create()));
    // Durable providers get the tenant's context id, and `{ tenant }` as REQUEST.
    return { resolve: (info: HostComponentInfo) => (info.isTreeDurable ? tenantId : contextId), payload: { tenant } };
  }
}

ContextIdFactory.apply(new TenantContextIdStrategy()); // once, before NestFactory.create
