"""The fake world behind the plugin: the backup system (reached by endpoint), the hypervisor
fleet and the schedule arithmetic both share."""
