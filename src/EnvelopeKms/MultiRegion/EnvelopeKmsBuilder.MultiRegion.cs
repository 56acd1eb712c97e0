using EnvelopeKms;
using EnvelopeKms.MultiRegion;

namespace Microsoft.Extensions.DependencyInjection;

public sealed partial class EnvelopeKmsBuilder
{
    private KmsRegionGroup? _regionGroup;

    /// <summary>
    /// Makes the key manager one Region of <paramref name="group"/> (its Region is <c>EnvelopeKmsOptions.Region</c>):
    /// multi-Region keys can then be replicated to and from the other Regions of the group. See <c>docs/multi-region.md</c>.
    /// </summary>
    public EnvelopeKmsBuilder JoinRegionGroup(KmsRegionGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        _regionGroup = group;
        return this;
    }

    private KeyManager JoinConfiguredRegionGroup(KeyManager manager)
    {
        if (_regionGroup is null)
        {
            return manager;
        }

        try
        {
            _regionGroup.Join(manager);
            return manager;
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }
}
