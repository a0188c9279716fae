namespace ClusterTwin; internal static class Placeholder {}
