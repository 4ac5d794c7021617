export { ResilienceModule } from './resilience.module.js';
export {
  RESILIENCE_MODULE_OPTIONS,
  type ResilienceModuleExtras,
} from './resilience.module-definition.js';
export { ResilienceSettings } from './resilience-settings.js';
